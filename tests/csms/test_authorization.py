"""Authorization verdicts on stored tokens, on SQLite and PostgreSQL."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from intercarga.csms.authorization import Authorizer
from intercarga.domain import Station, Token, Whitelist
from intercarga.ocpp.events import AuthorizationResult, AuthorizationStatus, IdToken
from intercarga.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STATION = Station(id="CS-1", country_code="CL", party_id="ICG")


def token(uid: str, **changes: object) -> Token:
    values: dict[str, object] = {
        "country_code": "CL",
        "party_id": "ICG",
        "uid": uid,
        "contract_id": "CL-ICG-C00000001-Q",
        "issuer": "Intercarga",
    }
    values.update(changes)
    return Token.model_validate(values)


async def test_verdicts(store: Store) -> None:
    await store.tokens.put(token("OK", group_id="FAMILY"))
    await store.tokens.put(token("BLOCKED", valid=False))
    await store.tokens.put(token("OLD", expires_at=NOW - timedelta(days=1)))
    await store.tokens.put(token("MASTER", group_id="MASTERPASS"))
    authorizer = Authorizer(store, master_pass_groups=frozenset({"MASTERPASS"}), clock=lambda: NOW)

    async def status(uid: str, kind: str = "ISO14443") -> AuthorizationStatus:
        return (await authorizer.authorize(IdToken(uid, kind), STATION)).status

    assert await status("OK") is AuthorizationStatus.ACCEPTED
    assert (await authorizer.authorize(IdToken("OK", "ISO14443"), STATION)).group_id == "FAMILY"
    assert await status("BLOCKED") is AuthorizationStatus.BLOCKED
    assert await status("OLD") is AuthorizationStatus.EXPIRED
    assert await status("NOBODY") is AuthorizationStatus.INVALID
    # A master pass is accepted with its group, which tells the station what it is (OCPP 2.0.1
    # C16); it may stop any session, and the session service refuses it as a start.
    master = await authorizer.authorize(IdToken("MASTER", "ISO14443"), STATION)
    assert master == AuthorizationResult(AuthorizationStatus.ACCEPTED, "MASTERPASS")
    assert authorizer.is_master_pass(master)
    assert not authorizer.is_master_pass(
        await authorizer.authorize(IdToken("OK", "ISO14443"), STATION)
    )
    assert await authorizer.may_stop("OK", IdToken("MASTER", "ISO14443"))
    assert await authorizer.may_stop("OK", IdToken("OK", "ISO14443"))
    assert not await authorizer.may_stop("OK", IdToken("BLOCKED", "ISO14443"))
    # An eMAID with a wrong check character is refused without a look-up.
    assert await status("CL-ICG-C00000001-7", "eMAID") is AuthorizationStatus.INVALID


async def test_unknown_tokens_go_to_roaming(store: Store) -> None:
    asked: list[tuple[str, list[str]]] = []

    async def roaming(
        uid: str, kind: str | None, station: Station, known: Sequence[Token]
    ) -> AuthorizationResult | None:
        asked.append((uid, [t.uid for t in known]))
        return AuthorizationResult(AuthorizationStatus.ACCEPTED) if uid == "ROAMER" else None

    await store.tokens.put(token("ASK-EMSP", whitelist=Whitelist.NEVER))
    authorizer = Authorizer(store, roaming=roaming, clock=lambda: NOW)
    assert (
        await authorizer.authorize(IdToken("ROAMER", "ISO14443"), STATION)
    ).status is AuthorizationStatus.ACCEPTED
    assert (
        await authorizer.authorize(IdToken("STRANGER", "ISO14443"), STATION)
    ).status is AuthorizationStatus.INVALID
    # Whitelist NEVER: the eMSP must be asked even though the token is stored.
    assert (
        await authorizer.authorize(IdToken("ASK-EMSP", "ISO14443"), STATION)
    ).status is AuthorizationStatus.INVALID
    # Roaming is handed the tokens the authorizer read, so it need not read them again.
    assert asked == [("ROAMER", []), ("STRANGER", []), ("ASK-EMSP", ["ASK-EMSP"])]
