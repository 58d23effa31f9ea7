"""Example applications built on tidings (run them from the repository root)."""
