"""Channel adapters other than email."""
