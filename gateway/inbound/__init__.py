"""Sources: the SMTP/LMTP listener and the durable spool."""
