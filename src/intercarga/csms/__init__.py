"""The CSMS services: what Intercarga does with what stations tell it, whatever their OCPP version.

``service.CsmsService`` is the :class:`~intercarga.ocpp.dispatch.StationEventHandler` behind the
OCPP endpoint: it receives version-free events (the ``ocpp`` side decodes them), lets the boot
policy, the authorizer, the session service or the status service decide, stores the outcome,
publishes the domain event, and only then returns a typed decision, which the ``ocpp`` side
encodes into the station's answer. This package must never parse a frame or build a version's
payload itself.
"""

from intercarga.csms.authorization import Authorizer, RoamingAuthorizer
from intercarga.csms.service import CsmsService

__all__ = ["Authorizer", "CsmsService", "RoamingAuthorizer"]
