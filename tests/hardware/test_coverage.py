"""Coverage indicator: shares of public EVSEs and power per inlet profile."""

from __future__ import annotations

from intercarga.domain.location import Location
from intercarga.hardware.coverage import InletCoverage, coverage
from intercarga.hardware.vehicles import inlet_set
from tests.hardware.networks import dc, evse, plug, site

T2_SOCKET = plug("IEC_62196_T2", "AC_3_PHASE", "SOCKET", 230, 32)  # 22.08 kW
T1_CABLE = plug("IEC_62196_T1", "AC_1_PHASE", "CABLE", 230, 32)  # 7.36 kW


def network() -> list[Location]:
    return [
        site("A", "CO", evse("AC", T2_SOCKET), evse("DC", dc("IEC_62196_T1_COMBO", 50))),
        site("B", "CO", evse("AC", T1_CABLE), evse("DC", dc("CHADEMO", 50))),
        site("HIDDEN", "CO", evse("DC", dc("GBT_DC", 120)), publish=False),
        site("GONE", "CO", evse("DC", dc("GBT_DC", 120), status="REMOVED")),
    ]


def profile(name: str) -> InletCoverage:
    result = coverage(network())
    return next(p for p in result.profiles if p.profile == name)


def test_counts_only_public_evses_in_service() -> None:
    result = coverage(network())
    assert result.public_evses == 4  # the unpublished site and the REMOVED EVSE do not count
    assert result.total_power_kw == round(22.08 + 50 + 7.36 + 50, 1)


def test_type1_ccs1_car() -> None:
    shares = profile("Type 1 + CCS1")
    # direct: T1 cable, CCS1; with a cable: T2 socket (Mode 3 T2↔T1); CHAdeMO: not at all.
    assert shares.evses == {"direct": 2, "with_cable": 1, "with_adapter": 0, "not_at_all": 1}
    assert shares.evse_share["direct"] == 0.5
    assert shares.power_share["not_at_all"] == round(50 / 129.44, 4)


def test_type2_ccs2_car() -> None:
    shares = profile("Type 2 + CCS2")
    # only the Type 2 socket; a Type 1 cable or CCS1 gun needs a non-compliant adapter.
    assert shares.evses == {"direct": 1, "with_cable": 0, "with_adapter": 0, "not_at_all": 3}


def test_nacs_car_uses_certified_adapters() -> None:
    shares = profile("NACS (SAE J3400)")
    # J1772 and CCS1 with the carmaker's adapters; T2 socket and CHAdeMO not.
    assert shares.evses == {"direct": 0, "with_cable": 0, "with_adapter": 2, "not_at_all": 2}


def test_custom_profiles_and_empty_network() -> None:
    result = coverage([], {"GB/T": inlet_set(["GB/T AC", "GB/T DC"])})
    assert result.public_evses == 0
    assert result.profiles[0].evse_share["direct"] == 0.0
