"""Helpdesk Gateway: turns mail and other channels into tickets, and answers back."""

__version__ = "0.1.0"
