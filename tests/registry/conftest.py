"""The OCPI tests' in-process network of deployments, for the access point's tests."""

from tests.ocpi.conftest import network

__all__ = ["network"]
