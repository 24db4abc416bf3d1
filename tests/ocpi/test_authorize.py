"""Real-time authorization, the CSMS's roaming hook: whitelist types honoured, eMSPs asked."""

from __future__ import annotations

from datetime import UTC, datetime

from intercarga import domain
from intercarga.assessment import ReportFormat, framework, load_country, render_country
from intercarga.assessment.live import country_report
from intercarga.ocpi.authorize import ocpi_token_type
from intercarga.ocpp.events import AuthorizationStatus, IdToken
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party

STATION = domain.Station(
    id="CS-1",
    country_code="CO",
    party_id="CPO",
    evses=[domain.StationEvse(ocpp_evse_id=1, location_id="LOC1", evse_uid="E1")],
)


def _token(uid: str, **changes: object) -> domain.Token:
    values: dict[str, object] = {
        "country_code": "CO",
        "party_id": "EMS",
        "uid": uid,
        "contract_id": f"CO-EMS-{uid}",
        "issuer": "Movilidad",
    }
    values.update(changes)
    return domain.Token.model_validate(values)


async def _pair(network: tuple[Network, Hosts]) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    await connect(cpo, emsp, "2.2.1")
    return cpo, emsp


async def test_an_unknown_token_is_asked_of_the_emsp_and_cached(
    network: tuple[Network, Hosts],
) -> None:
    cpo, emsp = await _pair(network)
    await emsp.system.store.tokens.put(_token("CARD-1", group_id="FAMILY"))
    await emsp.system.store.tokens.put(_token("CARD-2", valid=False))
    hook = cpo.roaming.authorize_unknown
    accepted = await hook("CARD-1", "ISO14443", STATION)
    assert accepted is not None and accepted.status is AuthorizationStatus.ACCEPTED
    assert accepted.group_id == "FAMILY"
    cached = await cpo.system.store.tokens.get("CO", "EMS", "CARD-1")
    assert cached.contract_id == "CO-EMS-CARD-1"
    blocked = await hook("CARD-2", None, STATION)
    assert blocked is not None and blocked.status is AuthorizationStatus.BLOCKED
    assert await hook("NOBODY", "ISO14443", STATION) is None
    # The CSMS's authorizer asks the hook for tokens it does not know.
    verdict = await cpo.system.csms_service.authorizer.authorize(
        IdToken("CARD-1", "ISO14443"), STATION
    )
    assert verdict.status is AuthorizationStatus.ACCEPTED


async def test_whitelist_types_decide_when_the_emsp_is_asked(
    network: tuple[Network, Hosts],
) -> None:
    _make, hosts = network
    cpo, emsp = await _pair(network)
    # What each side holds is set by hand below: the eMSP's watcher of operators' edits must not
    # push the blocked tokens to the CPO meanwhile (it did when the test ran slowly).
    await emsp.roaming.watcher.stop()
    hook = cpo.roaming.authorize_unknown
    w = domain.Whitelist
    # The CPO holds each token as the eMSP pushed it earlier: valid. The eMSP has since
    # blocked them all.
    for uid, whitelist in (("ALW", w.ALWAYS), ("ALO", w.ALLOWED), ("OFF", w.ALLOWED_OFFLINE)):
        await cpo.system.store.tokens.put(_token(uid, whitelist=whitelist))
        await emsp.system.store.tokens.put(_token(uid, whitelist=whitelist, valid=False))
    await cpo.system.store.tokens.put(_token("NEV", whitelist=w.NEVER))
    await emsp.system.store.tokens.put(_token("NEV", whitelist=w.NEVER))

    async def status(uid: str) -> AuthorizationStatus | None:
        verdict = await hook(uid, "ISO14443", STATION)
        return None if verdict is None else verdict.status

    async def at_the_station(uid: str) -> AuthorizationStatus:
        """What the CSMS answers the station (it asks the hook when the whitelist says so)."""
        authorizer = cpo.system.csms_service.authorizer
        return (await authorizer.authorize(IdToken(uid, "ISO14443"), STATION)).status

    # ALWAYS and ALLOWED: the cached token decides, the eMSP is not asked.
    assert await status("ALW") is AuthorizationStatus.ACCEPTED
    assert await status("ALO") is AuthorizationStatus.ACCEPTED
    assert await at_the_station("ALO") is AuthorizationStatus.ACCEPTED
    # ALLOWED_OFFLINE: the eMSP decides while it answers...
    assert await at_the_station("OFF") is AuthorizationStatus.BLOCKED
    # ... and the cached token only when it does not.
    await cpo.system.store.tokens.put(_token("OFF", whitelist=w.ALLOWED_OFFLINE))
    hosts.down.add("emsp.test")
    assert await status("OFF") is AuthorizationStatus.ACCEPTED
    assert await at_the_station("OFF") is AuthorizationStatus.ACCEPTED
    # NEVER: without the eMSP, no opinion, and the CSMS refuses.
    assert await status("NEV") is None
    assert await at_the_station("NEV") is AuthorizationStatus.INVALID
    hosts.down.discard("emsp.test")
    assert await at_the_station("NEV") is AuthorizationStatus.ACCEPTED


def test_ocpp_token_types_become_ocpi_ones() -> None:
    assert ocpi_token_type(None) == "RFID"
    assert ocpi_token_type("ISO14443") == "RFID"
    assert ocpi_token_type("Central") == "APP_USER"
    assert ocpi_token_type("eMAID") == "EMAID"
    assert ocpi_token_type("KeyCode") == "OTHER"


async def test_each_ask_is_stored_and_the_assessment_counts_its_success(
    network: tuple[Network, Hosts],
) -> None:
    _make, hosts = network
    cpo, emsp = await _pair(network)
    await emsp.system.store.tokens.put(_token("CARD-1"))
    await emsp.system.store.tokens.put(_token("CARD-2", valid=False))
    hook = cpo.roaming.authorize_unknown
    await hook("CARD-1", "ISO14443", STATION)  # accepted
    await hook("CARD-2", "ISO14443", STATION)  # blocked: a verdict all the same
    await hook("NOBODY", "ISO14443", STATION)  # the eMSP does not know it
    hosts.down.add("emsp.test")
    await hook("CARD-3", "ISO14443", STATION)  # cannot be reached
    hosts.down.discard("emsp.test")
    hosts.silent.add("emsp.test")
    await hook("CARD-4", "ISO14443", STATION)  # no answer in time
    hosts.silent.discard("emsp.test")

    stored = await cpo.system.store.authorizations.of_country("CO")
    outcomes = [r.outcome.value for r in stored]
    assert outcomes == ["accepted", "blocked", "unknown", "error", "timeout"]
    first = stored[0]
    assert (first.cpo_party_id, first.emsp, first.token_party) == ("CPO", "CO-EMS", "CO-EMS")
    assert (first.location_id, first.evse_uid, first.via_hub) == ("LOC1", "E1", False)
    assert all(r.latency_ms >= 0 for r in stored)

    # What an analyst sees in Colombia's report from this deployment.
    now = datetime.now(UTC)
    report = await country_report(cpo.system.store, framework(), load_country("CO"), now)
    text = render_country(report, framework(), "en", ReportFormat.MD).decode()
    assert "measured realtime_authorization_success = 50% (2 / 4)" in text
