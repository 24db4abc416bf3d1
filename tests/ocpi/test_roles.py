"""Roles and pushes without domain events: a NAP that only receives, operators' edits pushed,
2.1.1 partners limited to what they can take."""

from __future__ import annotations

from typing import Any

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.ocpi.transport import authorization_header
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until


def _location(location_id: str = "LOC1", **changes: Any) -> domain.Location:
    return (
        example_network()
        .locations[0]
        .model_copy(update={"country_code": "CO", "party_id": "CPO", "id": location_id, **changes})
    )


async def _details(caller: Deployment, callee: Deployment, version: str) -> list[dict[str, str]]:
    [partner] = (await caller.roaming.registrar.partners.list()).items
    assert partner.outgoing_token is not None
    answer = await caller.ocpi.get(
        f"http://{callee.name}.test/ocpi/{version}",
        headers={"Authorization": authorization_header(partner.outgoing_token)},
    )
    endpoints: list[dict[str, str]] = answer.json()["data"]["endpoints"]
    return endpoints


async def test_a_nap_receives_locations_and_tariffs_and_offers_nothing_else(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    nap = await make("nap", [party("CO", "UPM", "NAP", "Registro nacional")])
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    await connect(nap, cpo, "2.2.1")
    offered = {(e["identifier"], e["role"]) for e in await _details(cpo, nap, "2.2.1")}
    assert offered == {
        ("credentials", "SENDER"),
        ("locations", "RECEIVER"),
        ("tariffs", "RECEIVER"),
        ("hubclientinfo", "RECEIVER"),
    }
    await cpo.system.store.locations.put(_location())
    tariff = example_network().tariffs[2].model_copy(update={"party_id": "CPO"})
    await cpo.system.store.tariffs.put(tariff)
    [partner] = (await cpo.roaming.registrar.partners.list()).items
    assert (await cpo.admin.post(f"/api/v1/partners/{partner.id}/sync")).json()["queued"] == 2

    async def published() -> bool:
        return (
            await nap.system.store.locations.count() == 1
            and await nap.system.store.tariffs.count() == 1
        )

    await until(published)
    # The NAP never answers as an eMSP: no sessions, CDRs or tokens there.
    [to_nap] = (await cpo.roaming.registrar.partners.list()).items
    assert to_nap.outgoing_token is not None
    headers = {"Authorization": authorization_header(to_nap.outgoing_token)}
    cdrs = await cpo.ocpi.post("http://nap.test/ocpi/nap/2.2.1/cdrs", json={}, headers=headers)
    assert cdrs.status_code == 404
    # And a platform without a NAP party does not answer at the NAP's URLs.
    [to_cpo] = (await nap.roaming.registrar.partners.list()).items
    assert to_cpo.outgoing_token is not None
    refused = await nap.ocpi.get(
        "http://cpo.test/ocpi/nap/2.2.1/locations/CO/CPO/LOC1",
        headers={"Authorization": authorization_header(to_cpo.outgoing_token)},
    )
    assert refused.status_code == 404


async def test_an_operators_edits_are_pushed_and_a_status_change_is_only_a_patch(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    await connect(cpo, emsp, "2.2.1")
    location = _location()
    created = await cpo.admin.put(
        "/api/v1/locations/CO/CPO/LOC1", json=location.model_dump(mode="json")
    )
    assert created.status_code in (200, 201), created.text

    async def arrived() -> bool:
        return await emsp.system.store.locations.find("CO", "CPO", "LOC1") is not None

    await until(arrived)
    # An edit carries its time (the watcher looks at what changed since it last looked).
    renamed = location.model_copy(update={"name": "Nuevo nombre", "last_updated": utc_now()})
    await cpo.admin.put("/api/v1/locations/CO/CPO/LOC1", json=renamed.model_dump(mode="json"))

    async def renamed_there() -> bool:
        found = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
        return found.name == "Nuevo nombre"

    await until(renamed_there)
    # A token of the eMSP's edited by its operator reaches the CPO.
    token = {
        "country_code": "CO",
        "party_id": "EMS",
        "uid": "CARD-9",
        "contract_id": "CO-EMS-C00000009-L",
        "issuer": "EMS",
    }
    made = await emsp.admin.put("/api/v1/tokens/CO/EMS/CARD-9", json=token)
    assert made.status_code in (200, 201), made.text

    async def token_arrived() -> bool:
        return await cpo.system.store.tokens.find("CO", "EMS", "CARD-9") is not None

    await until(token_arrived)
    await cpo.roaming.watcher.look()
    [partner] = (await cpo.roaming.registrar.partners.list()).items
    entries, _ = await cpo.roaming.outbox.repository.entries(partner.id)
    assert [e.kind for e in entries] == ["location", "location"]


async def test_an_operators_deletions_reach_partners_the_ways_ocpi_allows(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    await connect(cpo, emsp, "2.2.1")
    location = _location()
    tariff = example_network().tariffs[2].model_copy(update={"party_id": "CPO"})
    await cpo.admin.put("/api/v1/locations/CO/CPO/LOC1", json=location.model_dump(mode="json"))
    await cpo.admin.put(f"/api/v1/tariffs/CO/CPO/{tariff.id}", json=tariff.model_dump(mode="json"))
    token = {
        "country_code": "CO",
        "party_id": "EMS",
        "uid": "CARD-9",
        "contract_id": "CO-EMS-C00000009-L",
        "issuer": "EMS",
    }
    await emsp.admin.put("/api/v1/tokens/CO/EMS/CARD-9", json=token)

    async def all_arrived() -> bool:
        return (
            await emsp.system.store.locations.find("CO", "CPO", "LOC1") is not None
            and await emsp.system.store.tariffs.find("CO", "CPO", tariff.id) is not None
            and await cpo.system.store.tokens.find("CO", "EMS", "CARD-9") is not None
        )

    await until(all_arrived)
    assert (await cpo.admin.delete("/api/v1/locations/CO/CPO/LOC1")).status_code == 204
    assert (await cpo.admin.delete(f"/api/v1/tariffs/CO/CPO/{tariff.id}")).status_code == 204
    assert (await emsp.admin.delete("/api/v1/tokens/CO/EMS/CARD-9")).status_code == 204

    async def all_gone() -> bool:
        there = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
        held = await cpo.system.store.tokens.get("CO", "EMS", "CARD-9")
        return (
            all(e.status is domain.EVSEStatus.REMOVED for e in there.evses)
            and await emsp.system.store.tariffs.find("CO", "CPO", tariff.id) is None
            and not held.valid
        )

    # OCPI deletes only Tariffs: a Location stays with its EVSEs REMOVED, a Token invalid.
    await until(all_gone)


async def test_a_legacy_2_1_1_partner_pulls_locations_and_pushes_tokens(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    # A 2.1.1 platform offers one side of each module; this one plays a CPO's to register.
    legacy = await make(
        "legacy", [party("CO", "EMS", "CPO"), party("CO", "EMS", "EMSP")], versions=["2.1.1"]
    )
    await connect(cpo, legacy)
    [partner] = (await cpo.roaming.registrar.partners.list()).items
    assert partner.version == "2.1.1"
    assert [(r.country_code, r.party_id, r.role) for r in partner.roles] == [("CO", "EMS", "EMSP")]
    await cpo.system.store.locations.put(_location())
    [to_cpo] = (await legacy.roaming.registrar.partners.list()).items
    headers = {"Authorization": authorization_header(to_cpo.outgoing_token or "", raw=True)}
    pulled = await legacy.ocpi.get("http://cpo.test/ocpi/cpo/2.1.1/locations", headers=headers)
    [shown] = pulled.json()["data"]
    # GB/T is not a 2.1.1 connector standard: that connector is left out, not the Location.
    assert shown["id"] == "LOC1"
    assert [c["standard"] for c in shown["evses"][0]["connectors"]] == ["IEC_62196_T2_COMBO"]
    token = {
        "uid": "LEGACY-1",
        "type": "RFID",
        "auth_id": "CO-EMS-C00000009-L",
        "issuer": "Legacy eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-24T12:00:00Z",
    }
    pushed = await legacy.ocpi.put(
        "http://cpo.test/ocpi/cpo/2.1.1/tokens/CO/EMS/LEGACY-1", json=token, headers=headers
    )
    assert pushed.json()["status_code"] == 1000, pushed.text
    stored = await cpo.system.store.tokens.get("CO", "EMS", "LEGACY-1")
    assert stored.contract_id == "CO-EMS-C00000009-L"
