"""OCPI roaming: an Intercarga deployment as a full OCPI party (CPO, eMSP, hub, NAP).

Models per version (2.1.1 read-only, 2.2.1, 2.3.0), the response envelope and status codes,
pagination, the credentials registration state machine, the HTTP client and the FastAPI routers.
Only this package knows OCPI; it translates to and from the domain in :mod:`.mapping` and never
lets a protocol detail leak past that edge.
"""

__all__: list[str] = []
