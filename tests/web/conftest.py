"""The `system` and `client` fixtures live in tests/conftest.py, shared with other packages."""
