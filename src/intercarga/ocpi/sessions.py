"""A Session as roaming shows it: charging periods made from its meter values, and the token
it was started with.

Shared by the pushes, the Sessions SENDER and the commands that name a session. Reads the store;
must never send anything.
"""

from __future__ import annotations

from intercarga import domain
from intercarga.billing.cdr import charging_periods
from intercarga.billing.periods import periods_from_meter_values
from intercarga.errors import IntercargaError
from intercarga.ocpi.routing import Party
from intercarga.store import Store

__all__ = ["session_for_ocpi", "session_token"]


def session_for_ocpi(session: domain.Session) -> domain.Session:
    """The session with charging periods made from its meter values when it has none."""
    if session.charging_periods or not session.meter_values:
        return session
    readings = sorted(session.meter_values, key=lambda value: value.timestamp)
    try:
        periods = charging_periods(periods_from_meter_values(readings), None)
    except IntercargaError:
        return session
    return session.model_copy(update={"charging_periods": periods})


async def session_token(
    store: Store, session: domain.Session, ours: frozenset[Party] = frozenset()
) -> domain.CdrToken:
    """The token a session was started with: a partner eMSP's when we hold one under that uid."""
    tokens = await store.tokens.find_by_uid(session.token_uid or "") if session.token_uid else []
    tokens.sort(key=lambda t: (t.country_code, t.party_id) in ours)
    for token in tokens:
        return domain.CdrToken(
            country_code=token.country_code,
            party_id=token.party_id,
            uid=token.uid,
            type=token.type.value,
            contract_id=token.contract_id,
        )
    # A token we never received (a local whitelist card): it is ours, under the session's party.
    uid = session.token_uid or "UNKNOWN"
    return domain.CdrToken(
        country_code=session.country_code,
        party_id=session.party_id,
        uid=uid,
        type="OTHER",
        contract_id=uid,
    )
