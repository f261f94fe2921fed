"""Who gets a new ticket (pure)."""
