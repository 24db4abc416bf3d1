"""Open Charge Map import on the real LAC sample (tests/data/ocm, CC BY-SA 4.0, © OCM contributors).

What an operator running ``intercarga ocm import`` sees: each POI mapped through the hardware
catalogue, each rejected one named with its reason, POIs that duplicate a stored Location found
with their score and left out, and a second import that changes nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.domain import ConnectorFormat, ConnectorStandard, EVSEStatus, Location, Party
from intercarga.geo import is_in_country
from intercarga.registry.ocm import (
    Mapped,
    Rejection,
    RejectReason,
    location_from_poi,
    match_score,
    ocm_reference,
)
from intercarga.registry.ocm_import import import_pois, read_pois
from intercarga.store.open_data import PublishedLocations
from intercarga.store.repositories import PartyRepository
from tests.cli.test_commands import assert_one_line_error, intercarga
from tests.factories import location_json

SAMPLE = Path(__file__).parent.parent / "data" / "ocm"


def _poi(name: str) -> object:
    return json.loads((SAMPLE / name).read_text(encoding="utf-8"))


def _map(name: str) -> Mapped | Rejection:
    return location_from_poi(_poi(name), ocm_reference(), is_in_country)


def test_a_poi_becomes_a_location_of_the_ocm_party() -> None:
    mapped = _map("CL/OCM-175793.json")
    assert isinstance(mapped, Mapped)
    site = mapped.location
    assert (site.country_code, site.party_id, site.id) == ("CL", "OCM", "OCM-175793")
    assert (site.country, site.city, site.time_zone) == ("CHL", "Santiago", "America/Santiago")
    assert site.coordinates.latitude == "-33.4941924"
    assert mapped.operator == "Copec Voltex"
    (evse,) = site.evses
    (connector,) = evse.connectors
    assert connector.standard is ConnectorStandard.IEC_62196_T2
    assert connector.format is ConnectorFormat.SOCKET  # OCM type 25, "Socket Only"
    assert connector.max_electric_power == 7400
    assert evse.status is EVSEStatus.UNKNOWN  # "Operational" is no live status


def test_quantity_makes_as_many_evses_and_dc_is_a_cable() -> None:
    mapped = _map("CO/OCM-462172.json")
    assert isinstance(mapped, Mapped)
    poi = _poi("CO/OCM-462172.json")
    assert isinstance(poi, dict)
    units = sum(max(1, c.get("Quantity") or 1) for c in poi["Connections"] if c["ConnectionTypeID"])
    assert len(mapped.location.evses) == units
    for evse in mapped.location.evses:
        (connector,) = evse.connectors
        if connector.standard in (ConnectorStandard.IEC_62196_T1_COMBO, ConnectorStandard.CHADEMO):
            assert connector.format is ConnectorFormat.CABLE


@pytest.mark.parametrize(
    ("name", "reason", "fragment"),
    [
        ("BR/OCM-16312.json", RejectReason.NO_CONNECTIONS, "no connections"),
        ("GT/OCM-274698.json", RejectReason.NO_CONNECTIONS, "known connector type"),
        ("PA/OCM-189696.json", RejectReason.NO_CONNECTIONS, "known connector type"),
        ("JM/OCM-479050.json", RejectReason.OUTSIDE_COUNTRY, "outside JM"),
        ("CO/OCM-485559.json", RejectReason.CONTRADICTORY_POWER, "at most 43 kW"),
        ("EC/OCM-461039.json", RejectReason.CONTRADICTORY_POWER, "AC only"),
        ("CO/OCM-279620.json", RejectReason.CONTRADICTORY_POWER, "DC only"),
    ],
)
def test_rejections_name_their_reason(name: str, reason: RejectReason, fragment: str) -> None:
    rejection = _map(name)
    assert isinstance(rejection, Rejection), rejection
    assert rejection.ocm_id == "OCM-" + name.split("-")[1].removesuffix(".json")
    assert rejection.reason is reason
    assert fragment in rejection.detail


def test_the_match_score_is_ocpdbs() -> None:
    here = Location.model_validate(location_json())
    assert match_score(here, "Copec", here, "Copec").score == 1.0
    # 100 m north: exp(-1); same address, operator and EVSE count.
    north = here.model_copy(
        update={"coordinates": here.coordinates.model_copy(update={"latitude": "-33.4526107"})}
    )
    moved = match_score(north, "Copec", here, "Copec")
    assert moved.distance_m == pytest.approx(100, abs=0.5)
    assert moved.score == pytest.approx(math.exp(-1), abs=0.01)
    # Another operator and half the EVSEs weigh it down, an unknown operator does not.
    assert match_score(here, "Enel X", here, "Copec Voltex").score < 0.5
    assert match_score(here, None, here, "Copec").score == 1.0


async def _copec_next_to_ocm_175793(engine: AsyncEngine) -> None:
    await PartyRepository(engine).put(
        Party(country_code="CL", party_id="CPC", name="Copec Voltex", roles=["CPO"])
    )
    operator_site = location_json(
        country_code="CL",
        party_id="CPC",
        id="CERRILLOS-1",
        address="Félix Margoz con P. Aguirre Cerda",
        city="Santiago",
        # 20 m from the OCM listing.
        coordinates={"latitude": "-33.4940100", "longitude": "-70.7056900"},
    )
    operator_site["evses"] = operator_site["evses"][1:]  # one AC EVSE, as OCM lists
    await PublishedLocations(engine).put(Location.model_validate(operator_site))


async def test_the_sample_imports_with_rejections_and_duplicates_and_again_idempotently(
    engine: AsyncEngine,
) -> None:
    await _copec_next_to_ocm_175793(engine)
    pois = list(read_pois(SAMPLE))
    assert len(pois) == 110
    locations, parties = PublishedLocations(engine), PartyRepository(engine)
    ticks: list[None] = []
    first = await import_pois(
        pois, locations, parties, ocm_reference(), is_in_country, advance=lambda: ticks.append(None)
    )
    assert len(ticks) == first.read == 110
    rejected = {r.ocm_id: r.reason for _, r in first.rejected}
    assert rejected["OCM-16312"] is RejectReason.NO_CONNECTIONS
    assert rejected["OCM-479050"] is RejectReason.OUTSIDE_COUNTRY
    assert rejected["OCM-485559"] is RejectReason.CONTRADICTORY_POWER
    assert {d[0]: d[1].key for d in first.duplicates} == {
        "OCM-175793": ("CL", "CPC", "CERRILLOS-1")
    }
    (duplicate,) = first.duplicates
    assert duplicate[1].score > 0.5
    assert duplicate[1].distance_m == pytest.approx(20, abs=3)
    assert len(first.created) == 110 - len(first.rejected) - 1
    assert first.updated == first.unchanged == []
    stored = await locations.find("MX", "OCM", "OCM-126892")
    assert stored is not None and stored.publish

    second = await import_pois(pois, locations, parties, ocm_reference(), is_in_country)
    assert second.created == second.updated == []
    assert sorted(second.unchanged) == sorted(first.created)
    assert second.rejected == first.rejected
    assert second.duplicates == first.duplicates
    assert await locations.find("CL", "OCM", "OCM-175793") is None


def test_the_command_reports_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    first = intercarga("ocm", "import", str(SAMPLE), "--json", cwd=tmp_path, timeout=180)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["read"] == 110
    assert report["created"] == 110 - len(report["rejected"])
    reasons = {item["ocm_id"]: item["reason"] for item in report["rejected"]}
    assert reasons["OCM-479050"] == "coordinates_outside_country"
    again = json.loads(
        intercarga("ocm", "import", str(SAMPLE), "--json", cwd=tmp_path, timeout=180).stdout
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, report["created"])
    table = intercarga("ocm", "import", str(SAMPLE / "JM"), cwd=tmp_path, timeout=180)
    assert table.returncode == 0, table.stderr
    assert "coordinates_outside_country" in table.stdout
    assert "Open Charge Map contributors" in table.stdout
    missing = intercarga("ocm", "import", str(tmp_path / "nope"), cwd=tmp_path)
    assert_one_line_error(missing, "neither a file nor a folder")
