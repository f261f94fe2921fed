"""Which ticket a message belongs to (pure)."""
