"""From-name and signature rendering (sandboxed jinja2)."""
