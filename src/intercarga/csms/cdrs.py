"""The priced CDR of an ended session, or the one-line reason it cannot have one.

:class:`CdrMaker` reads what pricing needs (the session's Location, the first of its connector's
tariffs that this CSMS holds, the token) and builds the CDR with
:func:`intercarga.billing.cdr.build_cdr`. It never stores anything: the session service stores
the CDR with the ended session in one write, or the session with ``no_cdr_reason``, so that no
session ends silently without either. A pricing fault of ours becomes that reason, never an
exception the station would hear.
"""

from __future__ import annotations

import logging

from intercarga.billing.cdr import build_cdr
from intercarga.csms.authorization import Authorizer
from intercarga.domain import Cdr, Location, Session, Tariff
from intercarga.errors import IntercargaError
from intercarga.store import Store

__all__ = ["CdrMaker"]

log = logging.getLogger(__name__)

_EXPIRED_REMARK = "closed by the CSMS: the station never ended it"


class CdrMaker:
    """Makes ended sessions' CDRs from what the store holds; see the module docstring."""

    def __init__(self, store: Store, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    async def tariff_at(
        self, location: Location, evse_uid: str, connector_id: str
    ) -> Tariff | None:
        """The first of the connector's tariffs that we hold."""
        evse = location.evse(evse_uid)
        connector = (
            next((c for c in evse.connectors if c.id == connector_id), None) if evse else None
        )
        for tariff_id in connector.tariff_ids if connector else ():
            tariff = await self._store.tariffs.find(
                location.country_code, location.party_id, tariff_id
            )
            if tariff is not None:
                return tariff
        return None

    async def make(self, session: Session, *, expired: bool) -> tuple[Cdr, None] | tuple[None, str]:
        """The ended session's CDR, or why it cannot have one (logged); ``expired``: the CSMS
        closed the session because its station never ended it (the CDR's remark says so)."""
        extra = {"session_id": session.id, "station_id": session.station_id}
        location = await self._store.locations.find(
            session.country_code, session.party_id, session.location_id
        )
        if location is None:
            reason = f"the session's location {session.location_id} is not known"
            log.error("no CDR: %s", reason, extra=extra)
            return None, reason
        tariff = await self.tariff_at(location, session.evse_uid, session.connector_id)
        token = await self._authorizer.find(session.token_uid) if session.token_uid else None
        try:
            cdr = build_cdr(session, location, tariff, token)
        except IntercargaError as error:
            log.error("no CDR: %s", error, extra=extra)
            return None, str(error)
        except Exception as error:
            # A fault of ours in pricing: the station's end is still stored, with the reason.
            log.exception("no CDR: pricing failed", extra=extra)
            return None, f"pricing failed: {type(error).__name__}: {error}"
        if expired:
            remark = "; ".join(r for r in (_EXPIRED_REMARK, cdr.remark) if r)
            cdr = cdr.model_copy(update={"remark": remark[:255]})
        return cdr, None
