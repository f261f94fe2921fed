"""Reading ``Authentication-Results`` (RFC 8601) that a trusted MTA added.

Only headers whose authserv-id is the configured trusted one count: the MTA
in front removes such headers that arrive from outside (RFC 8601 section 5),
so a sender cannot forge them. Lenient on syntax and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_PAIR = re.compile(r"([A-Za-z0-9_.-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)")


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One method's verdict: ``dkim=pass header.d=acme.example``."""

    method: str
    result: str
    properties: tuple[tuple[str, str], ...]

    def prop(self, name: str) -> str | None:
        """A property's value (``header.d``, ``smtp.mailfrom``), lower-cased, or None."""
        for key, value in self.properties:
            if key == name:
                return value
        return None


def trusted_results(headers: Iterable[str], authserv_id: str) -> list[AuthResult]:
    """The results in the headers written by ``authserv_id``."""
    wanted = authserv_id.strip().lower()
    found: list[AuthResult] = []
    for header in headers:
        text = _COMMENT.sub(" ", " ".join(header.split()))
        server, _, rest = text.partition(";")
        if server.strip().split(" ")[0].lower() != wanted:
            continue
        for clause in rest.split(";"):
            pairs = [(k.lower(), v.strip('"').lower()) for k, v in _PAIR.findall(clause)]
            if not pairs or "." in pairs[0][0]:
                continue
            method, result = pairs[0]
            found.append(AuthResult(method, result, tuple(pairs[1:])))
    return found


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    return value.rpartition("@")[2].strip("<>").lower() or None


def passes_for(results: Iterable[AuthResult], address: str) -> str | None:
    """Which passing result vouches for mail from ``address``'s domain, or None.

    DKIM must pass with ``header.d`` (or ``header.i``) of that domain; SPF must
    pass for an ``smtp.mailfrom`` of that domain.
    """
    domain = _domain(address)
    for found in results:
        if found.result != "pass":
            continue
        if found.method == "dkim" and domain in (
            _domain(found.prop("header.d")),
            _domain(found.prop("header.i")),
        ):
            return f"dkim=pass header.d={domain}"
        if found.method == "spf" and _domain(found.prop("smtp.mailfrom")) == domain:
            return f"spf=pass smtp.mailfrom={found.prop('smtp.mailfrom')}"
    return None
