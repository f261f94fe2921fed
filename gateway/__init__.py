"""Helpdesk Gateway: turns mail and other channels into tickets, and answers back."""

import sys as _sys

# structlog imports rich and pygments whenever they are installed (the test tools bring
# them) for console tracebacks the gateway never renders: about 5 MB in each of the
# daemon's two processes. Marking rich absent keeps them out; structlog then falls back
# to its plain tracebacks. A process that imported rich before us keeps it.
_sys.modules.setdefault("rich", None)  # type: ignore[arg-type]  # None means "not importable"

__version__ = "0.1.0"
