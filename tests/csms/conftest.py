"""The conformance suites' CSMS and stations (a 1.6 and a 2.0.1 one over a real WebSocket), for
the session tests that drive the CSMS as a station would."""

from tests.conformance.conftest import cs, cs16, csms

__all__ = ["cs", "cs16", "csms"]
