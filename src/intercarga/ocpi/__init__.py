"""OCPI roaming: an Intercarga deployment as a full OCPI party (CPO, eMSP, hub, NAP).

Only this package knows OCPI; it translates to and from the domain in :mod:`.mapping` and never
lets a protocol detail leak past that edge. It is built in tiers, each importing only the tiers
below it (the ``ocpi-tiers`` import-linter contract in pyproject.toml):

- **HTTP** (:mod:`.api`): the FastAPI routers; the only part that knows FastAPI.
- **Services**: :mod:`.roaming` builds them; :mod:`.registrar` (credentials), :mod:`.client`
  and :mod:`.egress` (calling partners), :mod:`.outbox` (reliable delivery), :mod:`.push`,
  :mod:`.commands`, :mod:`.profiles`, :mod:`.authorize`, :mod:`.hub` (the hub's executor),
  :mod:`.sessions`, :mod:`.storing`.
- **Pure rules**: :mod:`.registration` (the credentials state machine), :mod:`.hubplan` (where
  the hub sends a request), :mod:`.routing` (who gets a message), :mod:`.translate`,
  :mod:`.mapping`, :mod:`.transport` (headers, pagination), :mod:`.versions`.
- **Models**: :mod:`.envelope` and :mod:`.models` (2.1.1 read-only, 2.2.1, 2.3.0).
"""

__all__: list[str] = []
