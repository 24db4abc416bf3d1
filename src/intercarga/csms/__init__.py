"""The CSMS services: what Intercarga does with what stations tell it, whatever their OCPP version.

``service.CsmsService`` is the :class:`~intercarga.ocpp.server.StationHandler` the OCPP endpoint
calls: it asks the version adapter for a version-free event, lets the boot policy, the
authorizer, the session service or the status service decide, stores the outcome, publishes the
domain event, and only then answers the station. This package must never parse a frame or build
a version's payload itself; the ``ocpp`` adapters do that.
"""

from intercarga.csms.authorization import Authorizer, RoamingAuthorizer
from intercarga.csms.service import CsmsService

__all__ = ["Authorizer", "CsmsService", "RoamingAuthorizer"]
