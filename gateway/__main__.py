"""`python -m gateway` is the command line."""

from gateway.cli import main

raise SystemExit(main())
