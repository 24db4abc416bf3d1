"""The access point role, in one process: two deployments (a NAP and a CPO) over the routing
transport of ``tests/ocpi/conftest.py``. The NAP pulls a CPO in full after its registration,
keeps every EVSE status change (pushed or pulled), refuses another party's or an invalid
Location whole (counted against the CPO), and flags a CPO that stops reporting."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from intercarga import domain
from intercarga.domain._types import utc_now
from intercarga.ocpi.transport import authorization_header
from intercarga.registry import EvseKey
from intercarga.sim.example import example_network
from tests.ocpi.conftest import Deployment, Hosts, Network, connect, party, until

LOC = "LOC1"


def _location(**changes: Any) -> domain.Location:
    return (
        example_network()
        .locations[0]
        .model_copy(update={"country_code": "CO", "party_id": "CPO", "id": LOC, **changes})
    )


async def _token_to(caller: Deployment) -> dict[str, str]:
    [partner] = (await caller.roaming.registrar.partners.list()).items
    assert partner.outgoing_token is not None
    return {"Authorization": authorization_header(partner.outgoing_token)}


async def _pair(network: tuple[Network, Hosts], **registry: Any) -> tuple[Deployment, Deployment]:
    make, _hosts = network
    nap = await make(
        "nap",
        [party("CO", "UPM", "NAP", "Registro nacional")],
        registry={"pull_interval": 0, **registry},
    )
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    return nap, cpo


async def test_the_nap_pulls_a_cpo_in_full_after_registration_and_keeps_status_history(
    network: tuple[Network, Hosts],
) -> None:
    nap, cpo = await _pair(network)
    # The CPO's data exists before it registers: nothing pushes it, the NAP's pull finds it.
    await cpo.system.store.locations.put(_location())
    tariff = (
        example_network().tariffs[0].model_copy(update={"country_code": "CO", "party_id": "CPO"})
    )
    await cpo.system.store.tariffs.put(tariff)
    await connect(nap, cpo, "2.2.1")

    async def pulled() -> bool:
        return (
            await nap.system.store.locations.find("CO", "CPO", LOC) is not None
            and await nap.system.store.tariffs.count() == 1
        )

    await until(pulled)
    assert nap.roaming.puller is not None
    await nap.roaming.puller.settled()
    key = EvseKey("CO", "CPO", LOC, "SCL-PROV-1")
    [first] = await nap.system.store.status_history.history(key)
    assert (first.status, first.source, first.via) == (
        domain.EVSEStatus.AVAILABLE,
        "CO-CPO",
        "PULL",
    )
    # A pushed status change (an EVSE PATCH) is kept too, dated by the CPO's last_updated.
    at = utc_now().replace(microsecond=0)
    response = await cpo.ocpi.patch(
        f"http://nap.test/ocpi/nap/2.2.1/locations/CO/CPO/{LOC}/SCL-PROV-1",
        json={"status": "CHARGING", "last_updated": at.isoformat().replace("+00:00", "Z")},
        headers=await _token_to(cpo),
    )
    assert response.json()["status_code"] == 1000, response.text
    history = await nap.system.store.status_history.history(key)
    assert [(c.status, c.via, c.at) for c in history][1:] == [
        (domain.EVSEStatus.CHARGING, "PUSH", at)
    ]
    # A PATCH that does not change the status (or another EVSE's field) is no new change.
    same = await cpo.ocpi.patch(
        f"http://nap.test/ocpi/nap/2.2.1/locations/CO/CPO/{LOC}/SCL-PROV-1",
        json={"status": "CHARGING", "last_updated": at.isoformat().replace("+00:00", "Z")},
        headers=await _token_to(cpo),
    )
    assert same.json()["status_code"] == 1000
    assert len(await nap.system.store.status_history.history(key)) == 2
    # The regulator reads it over the admin API.
    shown = await nap.admin.get(f"/api/v1/registry/history/CO/CPO/{LOC}/SCL-PROV-1")
    assert [(c["status"], c["via"]) for c in shown.json()] == [
        ("AVAILABLE", "PULL"),
        ("CHARGING", "PUSH"),
    ]


async def test_another_partys_or_an_invalid_location_is_refused_whole_and_counted(
    network: tuple[Network, Hosts],
) -> None:
    nap, cpo = await _pair(network)
    await connect(nap, cpo, "2.2.1")
    headers = await _token_to(cpo)
    foreign = _location(party_id="XYZ").model_dump(mode="json")
    # A CPO pushing another party's location: refused with the OCPI status code, nothing stored.
    refused = await cpo.ocpi.put(
        f"http://nap.test/ocpi/nap/2.2.1/locations/CO/XYZ/{LOC}", json=foreign, headers=headers
    )
    assert refused.json()["status_code"] == 2000
    assert "CO-XYZ" in refused.json()["status_message"]
    assert await nap.system.store.locations.count() == 0
    # An invalid Location (no address): 2001 naming the field, nothing stored.
    body: dict[str, Any] = {
        "country_code": "CO",
        "party_id": "CPO",
        "id": LOC,
        "publish": True,
        "city": "Bogotá",
        "country": "COL",
        "coordinates": {"latitude": "4.60971", "longitude": "-74.08175"},
        "time_zone": "America/Bogota",
        "last_updated": "2026-12-01T10:00:00Z",
    }
    invalid = await cpo.ocpi.put(
        f"http://nap.test/ocpi/nap/2.2.1/locations/CO/CPO/{LOC}", json=body, headers=headers
    )
    assert invalid.json()["status_code"] == 2001
    assert "address" in invalid.json()["status_message"]
    assert await nap.system.store.locations.count() == 0
    assert await nap.system.store.status_history.last_received() == {}
    # Both count against the CPO's quality score, each refusal named.
    quality = (await nap.admin.get("/api/v1/registry/quality")).json()
    [cpo_score] = quality["cpos"]
    assert cpo_score["cpo"] == "CO-CPO"
    assert cpo_score["refusals"] == 2
    assert cpo_score["score"] < 100
    assert "refused" in cpo_score["failing_rules"]


async def test_a_cpo_that_stops_reporting_is_flagged_after_its_countrys_window(
    network: tuple[Network, Hosts],
) -> None:
    # Colombia's rule (60 s) overridden to 2 s for the test.
    nap, cpo = await _pair(network, rules={"CO": {"status_window_s": 2}})
    await cpo.system.store.locations.put(_location())
    await connect(nap, cpo, "2.2.1")

    async def flags() -> list[dict[str, Any]]:
        answer = await nap.admin.get("/api/v1/registry/flags")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    async def silent() -> bool:
        return any(f["subject"] == "CO-CPO" and f["rule"] == "silent" for f in await flags())

    await until(lambda: _has_location(nap))
    assert nap.roaming.puller is not None
    await nap.roaming.puller.settled()
    await until(silent, 15)
    [flag] = [f for f in await flags() if f["rule"] == "silent"]
    # Flagged only past the window: last heard from (the pull's answer) 2 s ago or more.
    ago = re.search(r"last heard (\d+) s ago", flag["detail"])
    assert ago is not None and int(ago.group(1)) >= 2
    assert "override of: Colombia" in flag["source"]
    assert "wants changes within 2 s" in flag["detail"]
    # The same at a glance, and the data that breaks a mandatory rule (no tariff received).
    status = (await nap.admin.get("/api/v1/registry/status")).json()
    [row] = status["cpos"]
    assert row["silent"] is True
    assert any(f["rule"] == "tariff" for f in status["flags"])
    # A new report and the CPO is heard from again.
    response = await cpo.ocpi.patch(
        f"http://nap.test/ocpi/nap/2.2.1/locations/CO/CPO/{LOC}/SCL-PROV-2",
        json={"status": "OUTOFORDER", "last_updated": utc_now().isoformat().replace("+00:00", "Z")},
        headers=await _token_to(cpo),
    )
    assert response.json()["status_code"] == 1000
    assert not await silent()


async def _has_location(nap: Deployment) -> bool:
    return await nap.system.store.locations.find("CO", "CPO", LOC) is not None


async def test_the_periodic_pull_reads_only_what_changed_and_catches_a_missed_push(
    network: tuple[Network, Hosts],
) -> None:
    nap, cpo = await _pair(network)
    earlier = utc_now() - timedelta(minutes=10)  # before any pull
    await cpo.system.store.locations.put(_location(last_updated=earlier))
    await cpo.system.store.locations.put(_location(id="LOC2", last_updated=earlier))
    await connect(nap, cpo, "2.2.1")
    assert nap.roaming.puller is not None
    await until(lambda: _has_location(nap))
    await nap.roaming.puller.settled()
    # The CPO's pushes stop (its outbox is down); one EVSE goes out of order meanwhile.
    await cpo.roaming.outbox.stop()
    await cpo.roaming.watcher.stop()
    location = await cpo.system.store.locations.get("CO", "CPO", "LOC2")
    later = utc_now() + timedelta(seconds=10)  # past the pull's margin, surely after the marks
    evse = location.evses[0].model_copy(
        update={"status": domain.EVSEStatus.OUTOFORDER, "last_updated": later}
    )
    await cpo.system.store.locations.put(
        location.model_copy(update={"evses": [evse, *location.evses[1:]], "last_updated": later})
    )
    # The periodic pull asks with date_from: only LOC2 comes (no tariff, LOC1 unchanged).
    assert await nap.roaming.puller.pull_all() == 1
    history = await nap.system.store.status_history.history(EvseKey("CO", "CPO", "LOC2", evse.uid))
    assert [(c.status, c.via) for c in history][-1] == (domain.EVSEStatus.OUTOFORDER, "PULL")
    # Pulled again: nothing new is recorded (the copy held is as new).
    await nap.roaming.puller.pull_all()
    assert len(
        await nap.system.store.status_history.history(EvseKey("CO", "CPO", "LOC2", evse.uid))
    ) == len(history)


async def test_two_pulls_and_a_push_of_one_location_at_once_keep_a_status_once(
    network: tuple[Network, Hosts],
) -> None:
    """A periodic pull that meets the full pull after registration, and the CPO's own push of
    the same new Location: each write of it waits for the other, and finds the status kept."""
    import asyncio

    nap, cpo = await _pair(network)
    await connect(nap, cpo, "2.2.1")
    puller = nap.roaming.puller
    assert puller is not None
    await puller.settled()
    await cpo.system.store.locations.put(_location())
    from intercarga.store.partners import PartnerRepository

    listed = await PartnerRepository(nap.system.store.engine).list(limit=None)
    [partner] = [p for p in listed.items if any(r.role == "CPO" for r in p.roles)]
    # The CPO pushes the new Location meanwhile (its change watcher), when it will.
    await asyncio.gather(puller.pull(partner, full=True), puller.pull(partner, full=True))
    key = EvseKey("CO", "CPO", LOC, "SCL-PROV-1")
    await until(lambda: _pushed_or_pulled(nap, key))
    history = await nap.system.store.status_history.history(key)
    assert [c.status for c in history] == [domain.EVSEStatus.AVAILABLE], history


async def _pushed_or_pulled(nap: Deployment, key: EvseKey) -> bool:
    return bool(await nap.system.store.status_history.history(key))
