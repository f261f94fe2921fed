"""The outbox worker and its transports."""
