"""Typed errors of the core, translated once at each edge.

The core raises these; the CLI turns them into one line on stderr and exit code 2, the HTTP layer
into problem JSON, the OCPP layer into CALLERROR and the OCPI layer into status codes. Nothing in
this module may know about any of those edges.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "DegradedError",
    "IntercargaError",
    "InvalidInputError",
    "NotFoundError",
    "StorageError",
]


class IntercargaError(Exception):
    """Base of every error a user, a peer or an operator can cause."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(IntercargaError):
    """The configuration file or an ``INTERCARGA_*`` variable holds a bad value."""


class StorageError(IntercargaError):
    """The database cannot be reached, opened or migrated."""


class DegradedError(IntercargaError):
    """A service the process needs besides the database (``component``: the cluster's NATS) is
    away for now; the process carries on and uses it again once it is back."""

    def __init__(self, component: str, message: str) -> None:
        super().__init__(message)
        self.component = component


class NotFoundError(IntercargaError):
    """An object asked for by its id does not exist."""


class ConflictError(IntercargaError):
    """An object cannot be created because one with the same id already exists."""


class InvalidInputError(IntercargaError):
    """Input that is well formed but wrong; ``field`` names where, when it is known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.field = field
        self.reason = message
