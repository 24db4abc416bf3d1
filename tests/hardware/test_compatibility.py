"""The compatibility engine on vehicle × connector × market cases, each with its justification.

Each case: the vehicle and market (so the inlets and limits come from data/vehicles.toml), one
station connector, and the expected answer: can it charge, how, and at what power.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from intercarga.domain.location import Connector
from intercarga.errors import InvalidInputError, NotFoundError
from intercarga.hardware.compatibility import (
    ChargeMethod,
    check_connector,
    compatibility,
    usable_locations,
)
from intercarga.hardware.vehicles import inlet_set, vehicle_catalogue
from tests.hardware.networks import dc, evse, plug, site

D = ChargeMethod.DIRECT
M3 = ChargeMethod.MODE3_CABLE
M2 = ChargeMethod.MODE2_CABLE
OK_ADAPTER = ChargeMethod.CERTIFIED_ADAPTER
BAD_ADAPTER = ChargeMethod.NONCOMPLIANT_ADAPTER
NONE = ChargeMethod.NONE

T2_SOCKET_22 = plug("IEC_62196_T2", "AC_3_PHASE", "SOCKET", 230, 32)
T2_CABLE_22 = plug("IEC_62196_T2", "AC_3_PHASE", "CABLE", 230, 32)
T2_CABLE_11 = plug("IEC_62196_T2", "AC_3_PHASE", "CABLE", 230, 16)
T2_SOCKET_11 = plug("IEC_62196_T2", "AC_3_PHASE", "SOCKET", 230, 16)
T2_SOCKET_1PH = plug("IEC_62196_T2", "AC_1_PHASE", "SOCKET", 230, 32)
T1_CABLE_7 = plug("IEC_62196_T1", "AC_1_PHASE", "CABLE", 230, 32)
T1_CABLE_240_30 = plug("IEC_62196_T1", "AC_1_PHASE", "CABLE", 240, 30)
T1_CABLE_240_32 = plug("IEC_62196_T1", "AC_1_PHASE", "CABLE", 240, 32)
T1_CABLE_240_48 = plug("IEC_62196_T1", "AC_1_PHASE", "CABLE", 240, 48)
GBT_AC_SOCKET = plug("GBT_AC", "AC_1_PHASE", "SOCKET", 220, 32)
GBT_AC_CABLE = plug("GBT_AC", "AC_1_PHASE", "CABLE", 220, 32)
NBR_14136 = plug("DOMESTIC_N", "AC_1_PHASE", "SOCKET", 220, 20)
IEC_60309_32 = plug("IEC_60309_2_three_32", "AC_3_PHASE", "SOCKET", 230, 32)
CCS2_150 = dc("IEC_62196_T2_COMBO", 150)
CCS2_250 = dc("IEC_62196_T2_COMBO", 250)
CCS1_150 = dc("IEC_62196_T1_COMBO", 150)
CCS1_100 = dc("IEC_62196_T1_COMBO", 100)
CCS1_62 = dc("IEC_62196_T1_COMBO", 62.5)
CHADEMO_50 = dc("CHADEMO", 50)
GBT_DC_60 = dc("GBT_DC", 60)
GBT_DC_120 = dc("GBT_DC", 120)
NACS_250 = dc("SAE_J3400", 250)
TESLA_S_120 = dc("TESLA_S", 120)
MCS_1000 = dc("MCS", 1000)
PANTOGRAPH = dc("PANTOGRAPH_TOP_DOWN", 300)


class Case(NamedTuple):
    vehicle: str
    market: str
    connector: Connector
    can_charge: bool | None
    method: ChargeMethod | None
    kw: float | None
    why: str


CASES = [
    Case(
        "BYD Dolphin",
        "CL",
        T2_SOCKET_22,
        True,
        D,
        7.0,
        "Type 2 inlet; socket needs the driver's own T2 cable; 1-phase 7 kW on-board charger",
    ),
    Case(
        "BYD Dolphin",
        "CL",
        CCS2_150,
        True,
        D,
        60.0,
        "CCS2 inlet; the car's 60 kW DC limit is below the station's 150 kW",
    ),
    Case(
        "BYD Dolphin",
        "CL",
        CHADEMO_50,
        False,
        BAD_ADAPTER,
        None,
        "CHAdeMO (CAN) to CCS2 (PLC) needs an active converter: never compliant",
    ),
    Case(
        "BYD Dolphin",
        "CL",
        T1_CABLE_7,
        False,
        BAD_ADAPTER,
        None,
        "a tethered Type 1 plug reaches a Type 2 inlet only through a vehicle-side adapter",
    ),
    Case(
        "BYD Dolphin",
        "CL",
        GBT_DC_60,
        False,
        BAD_ADAPTER,
        None,
        "GB/T 27930 and ISO 15118 differ: protocol conversion, not IEC 61851-1 compliant",
    ),
    Case(
        "BYD Dolphin",
        "CN",
        GBT_DC_120,
        True,
        D,
        120.0,
        "China-market unit has a GB/T DC inlet; its DC limit is unknown, so the station's",
    ),
    Case(
        "BYD Dolphin",
        "CN",
        CCS2_150,
        False,
        BAD_ADAPTER,
        None,
        "a China-market (GB/T) Dolphin cannot use CCS2 without a protocol converter",
    ),
    Case(
        "BYD Dolphin",
        "CR",
        CCS1_100,
        None,
        None,
        None,
        "Costa Rica gets both official and GB/T grey imports: the inlet is unknown",
    ),
    Case(
        "BYD Dolphin Mini",
        "BR",
        CCS2_150,
        True,
        D,
        40.0,
        "documented: CCS2 inlet, 40 kW DC in Brazil",
    ),
    Case(
        "BYD Dolphin Mini",
        "BR",
        T2_CABLE_22,
        True,
        D,
        6.6,
        "documented: Type 2 inlet, 6.6 kW single-phase on-board charger",
    ),
    Case(
        "BYD Dolphin Mini",
        "MX",
        CCS1_150,
        None,
        None,
        None,
        "the Mexican DC inlet is unverified, so the answer is unknown, not no",
    ),
    Case(
        "BYD Dolphin Mini",
        "MX",
        T2_SOCKET_1PH,
        True,
        D,
        6.6,
        "Type 2 documented for Mexico; 7.4 kW socket limited by the 6.6 kW charger",
    ),
    Case(
        "Nissan Leaf",
        "MX",
        CHADEMO_50,
        True,
        D,
        50.0,
        "Leaf's DC inlet is CHAdeMO; 50 kW both sides",
    ),
    Case(
        "Nissan Leaf",
        "MX",
        CCS1_62,
        False,
        BAD_ADAPTER,
        None,
        "Nissan offers no CHAdeMO-to-CCS adapter and the protocols differ",
    ),
    Case(
        "Nissan Leaf",
        "MX",
        T2_SOCKET_22,
        True,
        M3,
        6.6,
        "Mode 3 cable Type 2 plug to Type 1 connector, single phase (7.4 kW), car 6.6 kW",
    ),
    Case(
        "Nissan Leaf",
        "MX",
        T2_CABLE_22,
        False,
        BAD_ADAPTER,
        None,
        "a tethered Type 2 cable needs a vehicle-side adapter into a Type 1 inlet",
    ),
    Case(
        "Nissan Leaf",
        "MX",
        T1_CABLE_240_30,
        True,
        D,
        6.6,
        "J1772 at 240 V 30 A = 7.2 kW, limited by the 6.6 kW charger",
    ),
    Case(
        "Nissan Leaf",
        "CL",
        T2_SOCKET_22,
        None,
        None,
        None,
        "the Chilean Leaf's AC inlet (Type 1 or Type 2) is not known",
    ),
    Case(
        "Nissan Leaf",
        "CL",
        CHADEMO_50,
        True,
        D,
        50.0,
        "the Leaf's CHAdeMO DC inlet is documented for every market",
    ),
    Case(
        "Chevrolet Bolt",
        "MX",
        CCS1_150,
        True,
        D,
        55.0,
        "documented J1772/CCS1 in Mexico; the Bolt's DC limit is 55 kW",
    ),
    Case(
        "Chevrolet Bolt",
        "MX",
        T1_CABLE_240_48,
        True,
        D,
        11.5,
        "240 V 48 A = 11.52 kW, limited by the 11.5 kW charger",
    ),
    Case(
        "Chevrolet Bolt",
        "CO",
        CCS2_150,
        False,
        BAD_ADAPTER,
        None,
        "CCS2 to a CCS1 inlet: same protocol, passive adapter, still vehicle-side",
    ),
    Case(
        "Tesla Model 3",
        "MX",
        NACS_250,
        True,
        D,
        250.0,
        "North-American Model 3 has a J3400 inlet; 250 kW both sides",
    ),
    Case(
        "Tesla Model 3",
        "MX",
        CCS1_150,
        True,
        OK_ADAPTER,
        150.0,
        "Tesla supplies a CCS1 adapter: carmaker-supplied adapters are the accepted path",
    ),
    Case(
        "Tesla Model 3",
        "MX",
        T1_CABLE_240_32,
        True,
        OK_ADAPTER,
        7.7,
        "the carmaker's J1772 adapter; 240 V 32 A = 7.68 kW",
    ),
    Case(
        "Tesla Model 3",
        "MX",
        CHADEMO_50,
        False,
        BAD_ADAPTER,
        None,
        "CHAdeMO to J3400 needs protocol conversion",
    ),
    Case(
        "Tesla Model 3",
        "CL",
        CCS2_250,
        True,
        D,
        250.0,
        "Chilean Teslas are CCS2 cars (Superchargers there are CCS)",
    ),
    Case(
        "Tesla Model 3",
        "CL",
        T2_CABLE_11,
        True,
        D,
        11.0,
        "three-phase 16 A = 11.04 kW, limited by the 11 kW three-phase charger",
    ),
    Case(
        "Tesla Model Y",
        "MX",
        TESLA_S_120,
        True,
        D,
        120.0,
        "TESLA_S is mechanically J3400 (how OCPI 2.2.1 sends NACS); Tesla speaks its CAN",
    ),
    Case(
        "Hyundai Kona Electric",
        "CR",
        GBT_DC_60,
        False,
        BAD_ADAPTER,
        None,
        "a CCS1 car at a GB/T DC gun: protocol conversion needed",
    ),
    Case(
        "Hyundai Kona Electric",
        "CR",
        CCS1_100,
        True,
        D,
        77.0,
        "CCS1 inlet; the Kona's 77 kW DC limit",
    ),
    Case(
        "Kia EV6",
        "CL",
        T2_CABLE_22,
        True,
        D,
        11.0,
        "22 kW three-phase station, 11 kW three-phase charger",
    ),
    Case(
        "Kia EV6",
        "CL",
        T2_SOCKET_11,
        True,
        D,
        11.0,
        "socket: own cable; 3 x 230 V x 16 A = 11.04 kW, car 11 kW",
    ),
    Case(
        "Kia EV6",
        "MX",
        NACS_250,
        True,
        OK_ADAPTER,
        240.0,
        "NACS station to CCS1 car with the carmaker's adapter; car limit 240 kW",
    ),
    Case(
        "Volvo EX30",
        "BR",
        NBR_14136,
        True,
        M2,
        4.4,
        "Brazilian household socket 220 V 20 A: Mode 2 cable, 4.4 kW",
    ),
    Case(
        "Renault Kwid E-Tech",
        "BR",
        T2_CABLE_22,
        True,
        D,
        7.0,
        "documented Type 2, 7 kW single phase",
    ),
    Case(
        "Renault Kwid E-Tech",
        "CO",
        T2_CABLE_22,
        None,
        None,
        None,
        "no spec sheet checked for Colombia: unknown stays unknown",
    ),
    Case(
        "JAC E10X",
        "CN",
        GBT_AC_SOCKET,
        True,
        D,
        7.0,
        "GB/T AC socket, own GB/T cable; car limit unknown so 220 V x 32 A = 7.04 kW",
    ),
    Case(
        "JAC E10X",
        "CN",
        T2_SOCKET_22,
        True,
        M3,
        22.1,
        "T2 socket to GB/T AC by Mode 3 cable; car limit unknown: station's 3 x 230 V x 32 A",
    ),
    Case(
        "MG4",
        "CL",
        GBT_AC_CABLE,
        False,
        BAD_ADAPTER,
        None,
        "tethered GB/T AC into a Type 2 inlet needs a vehicle-side adapter",
    ),
    Case(
        "BMW i3",
        "MX",
        IEC_60309_32,
        True,
        M2,
        7.4,
        "industrial socket: Mode 2 cable, single phase of a Type 1 car = 7.36 kW",
    ),
    Case(
        "Chevrolet Bolt",
        "MX",
        MCS_1000,
        False,
        NONE,
        None,
        "MCS is for heavy trucks: no car adapter exists",
    ),
    Case(
        "Maxus eDeliver 9",
        "CL",
        PANTOGRAPH,
        False,
        NONE,
        None,
        "a bus pantograph cannot reach a van's CCS2 inlet",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.vehicle}-{c.market}-{c.why[:30]}" for c in CASES])
def test_vehicle_connector_market(case: Case) -> None:
    inlets = vehicle_catalogue().find(case.vehicle).variant(case.market).inlets()
    verdict = check_connector(inlets, case.connector)
    assert (verdict.can_charge, verdict.method) == (case.can_charge, case.method), case.why
    assert verdict.max_power_kw == case.kw, case.why
    assert verdict.reason


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_noncompliant_adapter_carries_the_iec_61851_reason() -> None:
    inlets = vehicle_catalogue().find("Nissan Leaf").variant("MX").inlets()
    verdict = check_connector(inlets, T2_CABLE_22)
    assert "IEC 61851-1" in verdict.reason
    assert verdict.via is not None and "adapter" in verdict.via


def test_location_answer_picks_the_best_way() -> None:
    location = site(
        "L1",
        "CL",
        evse("AC-1", T2_SOCKET_22),
        evse("DC-1", CCS2_150, CHADEMO_50),
    )
    result = compatibility("BYD Dolphin", "CL", location)
    assert result.can_charge is True
    assert result.max_power_kw == 60.0
    assert result.best is not None
    assert (result.best.evse_uid, result.best.standard.value) == ("DC-1", "IEC_62196_T2_COMBO")
    assert len(result.connectors) == 3
    assert result.vehicle == "BYD Dolphin"
    assert '"can_charge":true' in result.model_dump_json()


def test_location_answer_is_unknown_when_only_unknowns_remain() -> None:
    location = site("L2", "CR", evse("DC-1", CCS1_100, CHADEMO_50))
    assert compatibility("BYD Dolphin", "CR", location).can_charge is None


def test_location_where_nothing_fits() -> None:
    location = site("L3", "CR", evse("DC-1", GBT_DC_60))
    result = compatibility("Nissan Leaf", "CR", location)
    assert result.can_charge is False
    assert result.max_power_kw is None


def test_out_of_service_evse_is_flagged_not_hidden() -> None:
    location = site("L4", "MX", evse("DC-1", CHADEMO_50, status="OUTOFORDER"))
    result = compatibility("Nissan Leaf", "MX", location)
    assert result.can_charge is True
    assert "EVSE status is OUTOFORDER" in result.connectors[0].warnings


def test_explicit_inlet_set() -> None:
    location = site("L5", "CR", evse("DC-1", GBT_DC_120, CCS1_100, CHADEMO_50))
    result = compatibility(inlet_set(["GB/T AC", "GB/T DC"]), None, location)
    assert result.can_charge is True
    assert result.best is not None and result.best.standard.value == "GBT_DC"


def test_usable_locations_filter() -> None:
    ccs2 = site("CCS2", "CL", evse("E", CCS2_150))
    chademo = site("CHADEMO", "CL", evse("E", CHADEMO_50))
    socket = site("SOCKET", "CL", evse("E", T2_SOCKET_22))
    found = usable_locations("Nissan Leaf", "MX", [ccs2, chademo, socket])
    assert [location.id for location in found] == ["CHADEMO", "SOCKET"]


def test_unknown_vehicle_lists_near_matches() -> None:
    with pytest.raises(NotFoundError, match="did you mean: BYD Dolphin"):
        compatibility("BYD Dolfin", "CL", site("L", "CL", evse("E", CCS2_150)))


def test_unknown_market_lists_known_markets() -> None:
    with pytest.raises(InvalidInputError, match=r"known markets: .*CL"):
        compatibility("BYD Dolphin", "AR", site("L", "CL", evse("E", CCS2_150)))


def test_market_is_required_for_a_catalogue_vehicle() -> None:
    with pytest.raises(InvalidInputError, match="market"):
        compatibility("BYD Dolphin", None, site("L", "CL", evse("E", CCS2_150)))


def test_unknown_connector_name_lists_near_matches() -> None:
    with pytest.raises(NotFoundError, match="CCS2"):
        inlet_set(["CCS-2x"])
