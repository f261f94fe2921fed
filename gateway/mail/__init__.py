"""The pure core of mail understanding: parse, classify, forwards, quotes, sanitise."""
