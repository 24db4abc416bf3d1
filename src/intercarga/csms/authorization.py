"""Authorizing id tokens: Accepted, Blocked, Expired or Invalid, with group ids and a roaming hook.

Local tokens (issued by a party of this deployment or pushed by a partner eMSP) are decided
here. A token we do not know, or one whose whitelist says to ask its eMSP (NEVER, and
ALLOWED_OFFLINE while the eMSP answers), goes to the roaming hook, which answers from the eMSP in
real time or has no opinion (then: Invalid, or the cached token for ALLOWED_OFFLINE). Group
ids let one card stop another's session (OCPP's parent id tag / group id token). Master pass
group ids, from the configuration, may stop any session but never start one: a master pass is
Accepted with its group id, which is how the station recognises it (OCPP 2.0.1 C16), and
:meth:`Authorizer.is_master_pass` lets the session service refuse it as the start of a
transaction. Pure decisions on stored facts; the store is only read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from intercarga.domain import Station, Token, Whitelist
from intercarga.domain._types import utc_now
from intercarga.ids import is_valid_contract_id
from intercarga.ocpp.events import AuthorizationResult, AuthorizationStatus, IdToken
from intercarga.store import Store

__all__ = ["Authorizer", "RoamingAuthorizer", "decide"]

log = logging.getLogger(__name__)

RoamingAuthorizer = Callable[
    [str, str | None, Station, Sequence[Token]], Awaitable[AuthorizationResult | None]
]
"""``(token uid, token type, station, the tokens held with that uid) -> verdict``; None means
roaming has no opinion. The tokens are those the authorizer just read: roaming need not read
them again while a station waits (issue 16)."""

# OCPP id token types that carry no identity to check (2.0.1 IdTokenEnumType).
_NO_IDENTITY = frozenset({"NoAuthorization"})


def decide(token: Token, now: datetime) -> AuthorizationResult:
    """The verdict on a token we hold, at ``now``."""
    if not token.valid:
        return AuthorizationResult(AuthorizationStatus.BLOCKED, token.group_id, token.expires_at)
    if token.expires_at is not None and token.expires_at <= now:
        return AuthorizationResult(AuthorizationStatus.EXPIRED, token.group_id, token.expires_at)
    return AuthorizationResult(AuthorizationStatus.ACCEPTED, token.group_id, token.expires_at)


class Authorizer:
    # Collaborators come through __init__ only: no attribute can be added (or patched in) later.
    __slots__ = ("_clock", "_roaming", "_store", "master_pass_groups")

    def __init__(
        self,
        store: Store,
        *,
        roaming: RoamingAuthorizer | None = None,
        master_pass_groups: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._roaming = roaming  # given at construction: roaming is built before the CSMS
        self.master_pass_groups = master_pass_groups
        self._clock = clock

    async def find(self, uid: str) -> Token | None:
        tokens = await self._store.tokens.find_by_uid(uid)
        return tokens[0] if tokens else None

    async def authorize(self, id_token: IdToken, station: Station | None) -> AuthorizationResult:
        if id_token.type in _NO_IDENTITY:
            return AuthorizationResult(AuthorizationStatus.ACCEPTED)
        if id_token.type == "eMAID" and not is_valid_contract_id(id_token.value):
            # A contract id with a wrong check character is a misread or a forgery: never valid.
            log.warning("eMAID with a bad check character", extra={"token": id_token.value})
            return AuthorizationResult(AuthorizationStatus.INVALID)
        known = await self._store.tokens.find_by_uid(id_token.value)
        token = known[0] if known else None
        can_ask = self._roaming is not None and station is not None
        # NEVER: the eMSP must be asked; ALLOWED_OFFLINE: asked while it answers (OCPI 2.2.1
        # WhitelistType), the cached token deciding only when it does not.
        ask_first = (Whitelist.NEVER, Whitelist.ALLOWED_OFFLINE) if can_ask else (Whitelist.NEVER,)
        if token is not None and token.whitelist not in ask_first:
            return decide(token, self._clock())
        if self._roaming is not None and station is not None:
            try:
                verdict_from_roaming = await self._roaming(
                    id_token.value, id_token.type, station, known
                )
            except Exception:
                log.exception("roaming authorization failed", extra={"token": id_token.value})
                verdict_from_roaming = None
            if verdict_from_roaming is not None:
                return verdict_from_roaming
        if token is not None and token.whitelist is Whitelist.ALLOWED_OFFLINE:
            return decide(token, self._clock())
        if token is not None:
            # Whitelist NEVER and the eMSP could not be asked: the token's own state decides
            # nothing, so the answer is the safe one.
            return AuthorizationResult(AuthorizationStatus.INVALID, token.group_id)
        return AuthorizationResult(AuthorizationStatus.INVALID)

    def is_master_pass(self, verdict: AuthorizationResult) -> bool:
        """Whether ``verdict`` is that of a valid master pass (it stops sessions, never starts one)."""
        return (
            verdict.status is AuthorizationStatus.ACCEPTED
            and verdict.group_id is not None
            and verdict.group_id in self.master_pass_groups
        )

    async def may_stop(self, started_by: str | None, stopping: IdToken) -> bool:
        """Whether ``stopping`` may end a session started by ``started_by`` (same token or group)."""
        if started_by is None or stopping.value == started_by:
            return True
        stopper = await self.find(stopping.value)
        if stopper is None:
            return False
        if stopper.group_id is not None and stopper.group_id in self.master_pass_groups:
            return True
        starter = await self.find(started_by)
        return (
            starter is not None
            and starter.group_id is not None
            and starter.group_id == stopper.group_id
        )
