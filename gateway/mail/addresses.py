"""Comparing mail addresses the way the gateway does."""

from __future__ import annotations


def base_address(address: str) -> str:
    """The address without its ``+tag``, lower-cased.

    ``Support+x@Acme.example`` → ``support@acme.example``.
    """
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.partition('+')[0]}@{domain}"


def sub_address_tag(address: str) -> str | None:
    """The ``+tag`` of an address (as written), or None: ``support+k1@x`` → ``k1``."""
    local, at, _domain = address.strip().strip("<>").rpartition("@")
    if not at or "+" not in local:
        return None
    return local.partition("+")[2]
