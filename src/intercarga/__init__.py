"""Intercarga: an open platform for interoperable EV charging in Latin America and the Caribbean.

The package is organised by interoperability layer (see docs/architecture.md). Importing it
must never start I/O: ``intercarga.app`` is the one place that builds and wires the running system.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
