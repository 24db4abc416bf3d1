"""The functional modules between two registered deployments: what each party sees over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.responses import JSONResponse

from intercarga.domain import EVSEStatus
from intercarga.ocpi.mapping import location_to_ocpi
from intercarga.ocpi.transport import authorization_header
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment

EXAMPLES = Path(__file__).parent.parent / "data" / "ocpi-examples"
DAY = timedelta(days=1)


@pytest.fixture
async def registered(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> tuple[Deployment, Deployment, dict[str, str], dict[str, str]]:
    """CPO and eMSP registered (2.2.1); the headers each uses to call the other."""
    cpo, emsp = cpo_and_emsp
    invitation = (await cpo.admin.post("/api/v1/partners/invitations", json={})).json()
    response = await emsp.admin.post(
        "/api/v1/partners", json={"url": invitation["versions_url"], "token": invitation["token"]}
    )
    assert response.status_code == 201, response.text
    await emsp.admin.put(
        f"/api/v1/partners/{response.json()['id']}/credentials", params={"version": "2.2.1"}
    )
    emsp_partner = await emsp.roaming.registrar.partners.get(response.json()["id"])
    [cpo_partner] = (await cpo.roaming.registrar.partners.list()).items
    assert emsp_partner.outgoing_token and cpo_partner.outgoing_token
    return (
        cpo,
        emsp,
        {"Authorization": authorization_header(cpo_partner.outgoing_token)},
        {"Authorization": authorization_header(emsp_partner.outgoing_token)},
    )


def _example(version: str, name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / version / name).read_text())
    data.update(changes)
    return data


async def _seed_cpo_locations(cpo: Deployment, count: int) -> None:
    template = example_network().locations[0]
    for index in range(count):
        await cpo.system.store.locations.put(
            template.model_copy(
                update={"country_code": "CO", "party_id": "CPO", "id": f"LOC{index:03d}"}
            )
        )


async def test_emsp_pulls_cpo_locations_page_by_page_following_link(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, emsp, _to_emsp, to_cpo = registered
    await _seed_cpo_locations(cpo, 5)
    await emsp.system.store.locations.put(  # not ours: must never be served by the CPO
        example_network().locations[0].model_copy(update={"country_code": "CO", "party_id": "EMS"})
    )
    url = "/ocpi/cpo/2.2.1/locations?limit=2&date_from=2000-01-01T00:00:00Z"
    seen = []
    while url:
        response = await cpo.ocpi.get(url, headers=to_cpo)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status_code"] == 1000
        assert response.headers["X-Total-Count"] == "5"
        assert response.headers["X-Limit"] == "2"
        seen += [item["id"] for item in body["data"]]
        link = response.headers.get("Link")
        if link:
            target = link.split(">")[0].removeprefix("<")
            assert parse_qs(urlsplit(target).query)["date_from"] == ["2000-01-01T00:00:00Z"]
            url = target
        else:
            url = ""
    assert seen == [f"LOC{i:03d}" for i in range(5)]


async def test_next_links_seek_after_the_last_key_so_a_location_added_before_it_moves_nothing(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    """The Link a page gives names the last id served (``after``): the next page starts right
    after it, however many rows come before; a client counting ``offset`` itself is served too."""
    cpo, _emsp, _to_emsp, to_cpo = registered
    await _seed_cpo_locations(cpo, 5)
    first = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations?limit=2", headers=to_cpo)
    target = first.headers["Link"].split(">")[0].removeprefix("<")
    query = parse_qs(urlsplit(target).query)
    assert query["after"] == ["LOC001"] and query["offset"] == ["2"]
    # Created between two pages, sorting before the cursor: an offset would serve LOC001 again.
    await cpo.system.store.locations.put(
        example_network()
        .locations[0]
        .model_copy(update={"country_code": "CO", "party_id": "CPO", "id": "LOC000A"})
    )
    second = await cpo.ocpi.get(target, headers=to_cpo)
    assert [item["id"] for item in second.json()["data"]] == ["LOC002", "LOC003"]
    assert second.headers["X-Total-Count"] == "6"
    third_link = second.headers["Link"].split(">")[0].removeprefix("<")
    assert parse_qs(urlsplit(third_link).query)["after"] == ["LOC003"]
    counted = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations?offset=2&limit=2", headers=to_cpo)
    assert [item["id"] for item in counted.json()["data"]] == ["LOC001", "LOC002"]


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
async def test_pulled_pages_are_each_locations_mapping_byte_for_byte(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]], version: str
) -> None:
    cpo, _emsp, _to_emsp, to_cpo = registered
    network = example_network()
    for index, template in enumerate(network.locations):  # GB/T and CHAdeMO among them
        await cpo.system.store.locations.put(
            template.model_copy(
                update={"country_code": "CO", "party_id": "CPO", "id": f"LOC{index:03d}"}
            )
        )
    stored = (
        await cpo.system.store.locations.list(
            limit=None, filters={"country_code": "CO", "party_id": "CPO"}
        )
    ).items
    # Once written afresh, then from what the sender kept: the same bytes as the mapping's
    # JSON written whole by the response class every other OCPI answer uses.
    for _ in range(2):
        url, data = f"/ocpi/cpo/{version}/locations?limit=3", []
        while url:
            response = await cpo.ocpi.get(url, headers=to_cpo)
            body = response.json()
            assert response.headers["content-type"] == "application/json"
            assert response.content == JSONResponse(body).body
            data += body["data"]
            url = response.links.get("next", {}).get("url", "")
        assert data == [location_to_ocpi(location, version) for location in stored]
        assert body["status_code"] == 1000 and list(body) == ["data", "status_code", "timestamp"]


async def test_a_late_status_report_and_an_edit_show_on_the_next_pull(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, _emsp, _to_emsp, to_cpo = registered
    await _seed_cpo_locations(cpo, 2)
    store = cpo.system.store.locations

    async def pulled() -> list[dict[str, Any]]:
        response = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations", headers=to_cpo)
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    before = await pulled()
    assert before == await pulled()
    stored = await store.get("CO", "CPO", "LOC000")
    # A report older than the Location's last change: the EVSE changes, last_updated does not.
    evse = stored.evses[0]
    late = evse.model_copy(
        update={"status": EVSEStatus.OUTOFORDER, "last_updated": stored.last_updated - DAY}
    )
    assert await store.put_statuses(
        stored, stored.model_copy(update={"evses": [late, *stored.evses[1:]]})
    )
    after = await pulled()
    assert after[0]["last_updated"] == before[0]["last_updated"]
    assert after[0]["evses"][0]["status"] == "OUTOFORDER"
    assert after[1] == before[1]
    # An edit that keeps every timestamp.
    edited = await store.get("CO", "CPO", "LOC000")
    await store.put(edited.model_copy(update={"name": "Renamed on the spot"}))
    assert (await pulled())[0]["name"] == "Renamed on the spot"
    assert (await pulled())[0]["evses"][0]["status"] == "OUTOFORDER"


async def test_oversized_pages_are_capped_and_bad_parameters_are_2001(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, _emsp, _to_emsp, to_cpo = registered
    await _seed_cpo_locations(cpo, 3)
    capped = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations?limit=100000", headers=to_cpo)
    assert capped.headers["X-Limit"] == "100"
    for query in ("limit=0", "offset=-1", "offset=99999999999", "date_from=yesterday"):
        bad = await cpo.ocpi.get(f"/ocpi/cpo/2.2.1/locations?{query}", headers=to_cpo)
        assert bad.json()["status_code"] == 2001, query


async def test_one_location_evse_and_connector_from_the_sender(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, _emsp, _to_emsp, to_cpo = registered
    await _seed_cpo_locations(cpo, 1)
    location = (await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations/LOC000", headers=to_cpo)).json()
    evse = location["data"]["evses"][0]
    one = await cpo.ocpi.get(f"/ocpi/cpo/2.2.1/locations/LOC000/{evse['uid']}", headers=to_cpo)
    assert one.json()["data"] == evse
    connector = await cpo.ocpi.get(
        f"/ocpi/cpo/2.2.1/locations/LOC000/{evse['uid']}/{evse['connectors'][0]['id']}",
        headers=to_cpo,
    )
    assert connector.json()["data"] == evse["connectors"][0]
    unknown = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations/NOPE", headers=to_cpo)
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2003


async def test_cpo_pushes_a_location_and_patches_an_evse_status(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    _cpo, emsp, to_emsp, _to_cpo = registered
    location = _example("2.2.1", "location_example.json", country_code="CO", party_id="CPO")
    url = "/ocpi/emsp/2.2.1/locations/CO/CPO/LOC1"
    created = await emsp.ocpi.put(url, json=location, headers=to_emsp)
    assert (created.status_code, created.json()["status_code"]) == (201, 1000)
    again = await emsp.ocpi.put(url, json=location, headers=to_emsp)
    assert again.status_code == 200
    patch = {"status": "CHARGING", "last_updated": "2019-06-24T12:39:09Z"}
    patched = await emsp.ocpi.patch(f"{url}/3256", json=patch, headers=to_emsp)
    assert patched.json()["status_code"] == 1000, patched.text
    stored = await emsp.system.store.locations.get("CO", "CPO", "LOC1")
    assert stored.evse("3256").status.value == "CHARGING"  # type: ignore[union-attr]
    read = (await emsp.ocpi.get(url, headers=to_emsp)).json()["data"]
    assert read["last_updated"] == "2019-06-24T12:39:09Z"
    assert read["evses"][0]["status"] == "CHARGING"


async def test_bad_pushes_change_nothing(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    _cpo, emsp, to_emsp, _to_cpo = registered
    location = _example("2.2.1", "location_example.json", country_code="CO", party_id="CPO")
    url = "/ocpi/emsp/2.2.1/locations/CO/CPO/LOC1"
    await emsp.ocpi.put(url, json=location, headers=to_emsp)
    before = await emsp.system.store.locations.get("CO", "CPO", "LOC1")

    other_id = await emsp.ocpi.put(url.replace("LOC1", "LOC2"), json=location, headers=to_emsp)
    assert other_id.json()["status_code"] == 2001
    assert "id:" in other_id.json()["status_message"]
    broken = _example("2.2.1", "location_put_example_add_evse.json")
    bad_evse = await emsp.ocpi.put(f"{url}/3256", json=broken, headers=to_emsp)
    assert bad_evse.json()["status_code"] == 2001
    assert "floor: unknown field" in bad_evse.json()["status_message"]
    assert "connectors.0.power_type: Field required" in bad_evse.json()["status_message"]
    bad_patch = await emsp.ocpi.patch(
        f"{url}/3256",
        json={"status": "ON_FIRE", "last_updated": "2020-01-01T00:00:00Z"},
        headers=to_emsp,
    )
    assert bad_patch.json()["status_code"] == 2001
    no_stamp = await emsp.ocpi.patch(f"{url}/3256", json={"status": "BLOCKED"}, headers=to_emsp)
    assert "last_updated" in no_stamp.json()["status_message"]
    not_theirs = await emsp.ocpi.put(
        "/ocpi/emsp/2.2.1/locations/NL/TNM/LOC1",
        json={**location, "country_code": "NL", "party_id": "TNM"},
        headers=to_emsp,
    )
    assert not_theirs.status_code == 404
    unknown_location = await emsp.ocpi.patch(
        "/ocpi/emsp/2.2.1/locations/CO/CPO/NOPE/1",
        json={"status": "BLOCKED", "last_updated": "2020-01-01T00:00:00Z"},
        headers=to_emsp,
    )
    assert unknown_location.json()["status_code"] == 2003
    assert await emsp.system.store.locations.get("CO", "CPO", "LOC1") == before


async def test_emsp_pushes_tokens_and_answers_real_time_authorization(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, emsp, _to_emsp, to_cpo = registered
    token = _example("2.2.1", "token_example_2_full_rfid.json", country_code="CO", party_id="EMS")
    for name in ("default_profile_type", "energy_contract"):
        token.pop(name)
    url = f"/ocpi/cpo/2.2.1/tokens/CO/EMS/{token['uid']}"
    assert (await cpo.ocpi.put(url, json=token, headers=to_cpo)).status_code == 201
    patched = await cpo.ocpi.patch(
        url, json={"valid": False, "last_updated": "2019-06-19T02:11:11Z"}, headers=to_cpo
    )
    assert patched.json()["status_code"] == 1000
    assert (await cpo.system.store.tokens.get("CO", "EMS", token["uid"])).valid is False
    assert (await cpo.ocpi.get(url, headers=to_cpo)).json()["data"]["valid"] is False

    # The eMSP's own token list and real-time authorization.
    await emsp.system.store.tokens.put(
        example_network().tokens[0].model_copy(update={"country_code": "CO", "party_id": "EMS"})
    )
    ours = example_network().tokens[0]
    listed = await emsp.ocpi.get("/ocpi/emsp/2.2.1/tokens", headers=_reverse(registered))
    assert [t["uid"] for t in listed.json()["data"]] == [ours.uid]
    allowed = await emsp.ocpi.post(
        f"/ocpi/emsp/2.2.1/tokens/{ours.uid}/authorize",
        json={"location_id": "LOC1", "evse_uids": ["3256"]},
        headers=_reverse(registered),
    )
    assert allowed.json()["data"]["allowed"] == "ALLOWED"
    assert allowed.json()["data"]["location"] == {"location_id": "LOC1", "evse_uids": ["3256"]}
    unknown = await emsp.ocpi.post(
        "/ocpi/emsp/2.2.1/tokens/NOBODY/authorize", headers=_reverse(registered)
    )
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, 2004)


def _reverse(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> dict[str, str]:
    """The headers the CPO uses to call the eMSP."""
    return registered[2]


async def test_sessions_and_cdrs_reach_the_emsp_and_cdrs_are_never_changed(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    _cpo, emsp, to_emsp, _to_cpo = registered
    session = _example(
        "2.2.1", "session_example_1_simple_start.json", country_code="CO", party_id="CPO"
    )
    url = f"/ocpi/emsp/2.2.1/sessions/CO/CPO/{session['id']}"
    assert (await emsp.ocpi.put(url, json=session, headers=to_emsp)).status_code == 201
    period = _example("2.2.1", "session_patch_example_charging_period.json")
    assert (await emsp.ocpi.patch(url, json=period, headers=to_emsp)).json()["status_code"] == 1000
    stored = await emsp.system.store.sessions.get("CO", "CPO", session["id"])
    assert stored.kwh == 15 and len(stored.charging_periods) == 1

    cdr = _example("2.2.1", "cdr_example.json", country_code="CO", party_id="CPO")
    posted = await emsp.ocpi.post("/ocpi/emsp/2.2.1/cdrs", json=cdr, headers=to_emsp)
    assert posted.status_code == 201
    assert posted.headers["Location"].endswith(f"/CO/CPO/{cdr['id']}")
    # The CPO may GET it there (its outbox asks before sending a CDR in doubt again), and gets
    # a 404 at that URL for a CDR it never POSTed.
    where = httpx.URL(posted.headers["Location"]).path
    got = await emsp.ocpi.get(where, headers=to_emsp)
    assert got.status_code == 200 and got.json()["data"]["id"] == cdr["id"]
    never = await emsp.ocpi.get(where.replace(cdr["id"], "NEVER-POSTED"), headers=to_emsp)
    assert never.status_code == 404
    repeat = await emsp.ocpi.post("/ocpi/emsp/2.2.1/cdrs", json=cdr, headers=to_emsp)
    assert repeat.status_code == 201  # a repeat is idempotent
    changed = {**cdr, "total_energy": 99}
    refused = await emsp.ocpi.post("/ocpi/emsp/2.2.1/cdrs", json=changed, headers=to_emsp)
    assert refused.json()["status_code"] == 2001
    kept = await emsp.system.store.cdrs.get("CO", "CPO", cdr["id"])
    assert kept.total_energy == Decimal(str(cdr["total_energy"]))


async def test_tariffs_are_pushed_deleted_and_pulled(
    registered: tuple[Deployment, Deployment, dict[str, str], dict[str, str]],
) -> None:
    cpo, emsp, to_emsp, to_cpo = registered
    tariff = _example("2.2.1", "tariff_1_simple_2hour.json", country_code="CO", party_id="CPO")
    url = f"/ocpi/emsp/2.2.1/tariffs/CO/CPO/{tariff['id']}"
    assert (await emsp.ocpi.put(url, json=tariff, headers=to_emsp)).status_code == 201
    assert (await emsp.ocpi.get(url, headers=to_emsp)).json()["data"] == tariff
    assert (await emsp.ocpi.delete(url, headers=to_emsp)).json()["status_code"] == 1000
    assert (await emsp.ocpi.get(url, headers=to_emsp)).status_code == 404

    await cpo.system.store.tariffs.put(
        example_network().tariffs[0].model_copy(update={"country_code": "CO", "party_id": "CPO"})
    )
    pulled = await cpo.ocpi.get("/ocpi/cpo/2.3.0/tariffs", headers=to_cpo)
    assert pulled.json()["data"][0]["tax_included"] in ("YES", "NO", "N/A")
