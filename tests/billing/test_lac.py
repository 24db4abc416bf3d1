"""Latin American cases: CLP without decimals, Santiago across a DST change, Bogotá with IVA
19 % (OCPI 2.3.0 shapes), São Paulo parking after charging. Totals computed by hand in
tests/data/lac-tariff-cases/README.md."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from intercarga.billing import compile_tariff, price_cdr, price_session, read_cdr_excerpt
from intercarga.billing.check import check_totals
from intercarga.billing.documents import detect_version
from intercarga.domain import CdrDimension, CdrDimensionType, ChargingPeriod
from tests.billing.data import LAC, load, tariff_from

D = Decimal
ZONES = {
    "santiago_clp_dst": "America/Santiago",
    "bogota_iva_19": "America/Bogota",
    "sao_paulo_parking": "America/Sao_Paulo",
}
CASES = sorted(LAC.glob("*/cdr*.json"))


@pytest.mark.parametrize("cdr_path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lac_case_totals_check(cdr_path: Path) -> None:
    data = load(cdr_path)
    cdr = read_cdr_excerpt(data)
    pricing = price_cdr(
        tariff_from(cdr_path.parent / "tariff.json"), cdr, time_zone=ZONES[cdr_path.parent.name]
    )
    mismatches, notes = check_totals(pricing, cdr, detect_version(data))
    assert mismatches == [] and notes == []


def test_santiago_clp_has_no_decimals_and_follows_the_dst_change() -> None:
    case = LAC / "santiago_clp_dst"
    cdr = read_cdr_excerpt(load(case / "cdr.json"))
    tariff = tariff_from(case / "tariff.json")
    pricing = price_cdr(tariff, cdr, time_zone="America/Santiago")
    assert pricing.total_cost.after_taxes == D("12509.28")
    settled = pricing.settled()
    assert settled.total_cost == (D("10512"), D("12509"), settled.total_cost.taxes)
    assert settled.total_cost.taxes[0].amount == D("1997")
    # The night element starts at 01:00 local (00:00 does not exist that night) = 04:00Z.
    starts = [(line.start, line.component.element) for line in pricing.lines if line.component]
    assert starts == [(1757210400, 1), (1757217600, 0), (1757235600, 1)]
    # A pricer that ignored the change and kept −04 would have billed six night hours.
    fixed = price_cdr(tariff, cdr, time_zone="Etc/GMT+4").settled()
    assert fixed.total_cost.before_taxes == D("14.6") * 230 + D("43.8") * 150
    assert fixed.total_cost.before_taxes != settled.total_cost.before_taxes


def test_santiago_repeated_hour_when_dst_ends() -> None:
    """2025-04-06 03:00Z: 00:00 −03 becomes 23:00 −04, Saturday gets 23:00–24:00 twice.

    A night price from 00:00 starts at the second midnight (04:00Z), not the first (03:00Z)."""
    tariff = tariff_from(LAC / "santiago_clp_dst" / "tariff.json")
    start = datetime.fromisoformat("2025-04-06T01:00:00+00:00")  # Saturday 22:00 −03
    end = datetime.fromisoformat("2025-04-06T06:00:00+00:00")  # Sunday 02:00 −04
    periods = [
        ChargingPeriod(
            start_date_time=start,
            dimensions=[CdrDimension(type=CdrDimensionType.ENERGY, volume=D(50))],
        )
    ]
    pricing = price_session(tariff, periods, start=start, end=end, time_zone="America/Santiago")
    # 10 kWh an hour: 01:00Z–04:00Z at 230 (three hours, one of them the repeated 23:00), then
    # 04:00Z–06:00Z at 150.
    assert pricing.total_cost.before_taxes == 30 * 230 + 20 * 150
    assert pricing.total_time == 5


def test_bogota_reads_and_writes_2_3_0_taxes() -> None:
    case = LAC / "bogota_iva_19"
    data = load(case / "cdr.json")
    assert detect_version(data) == "2.3.0"
    cdr = read_cdr_excerpt(data)
    assert cdr.total_cost is not None and cdr.total_cost.incl_vat == D("49271.95")
    pricing = price_cdr(tariff_from(case / "tariff.json"), cdr, time_zone="America/Bogota")
    settled = pricing.settled()
    assert settled.total_cost.before_taxes == D("41405.00")
    assert [(t.percentage, t.amount) for t in settled.total_cost.taxes] == [(D(19), D("7866.95"))]
    assert settled.total_fixed_cost.taxes[0].amount == D("475.00")


def test_bogota_without_the_zone_prices_differently() -> None:
    """In UTC the session (22:30Z–00:00Z) never touches 18:00–21:00: all at the base price."""
    case = LAC / "bogota_iva_19"
    cdr = read_cdr_excerpt(load(case / "cdr.json"))
    pricing = price_cdr(tariff_from(case / "tariff.json"), cdr, time_zone="UTC").settled()
    assert pricing.total_cost.before_taxes == D("2500") + 30 * D("1190.50")


def test_sao_paulo_idle_fee_only_in_its_hours() -> None:
    case = LAC / "sao_paulo_parking"
    tariff = tariff_from(case / "tariff.json")
    night = price_cdr(tariff, read_cdr_excerpt(load(case / "cdr_night.json")),
                      time_zone="America/Sao_Paulo")  # fmt: skip
    parked = [line for line in night.lines if line.dimension == "PARKING_TIME"]
    assert [line.kind for line in parked] == ["charge", "unpriced"]
    assert abs(parked[0].volume - D("0.5") / 3) < D("1e-20")  # 10 of 30 minutes
    assert night.settled().total_parking_cost.before_taxes == D("2.00")
    assert len(night.warnings) == 1


def test_tariff_and_cdr_currencies_differ() -> None:
    from intercarga.errors import InvalidInputError

    tariff = compile_tariff(
        tariff_from(LAC / "santiago_clp_dst" / "tariff.json").tariff  # CLP
    )
    cdr = read_cdr_excerpt(load(LAC / "bogota_iva_19" / "cdr.json"))  # COP
    with pytest.raises(InvalidInputError, match="the tariff is in CLP and the CDR in COP"):
        price_cdr(tariff, cdr)


def test_a_2_3_0_check_compares_the_taxes_as_their_sum() -> None:
    case = LAC / "bogota_iva_19"
    data = load(case / "cdr.json")
    data["total_cost"]["taxes"] = [
        {"name": "IVA", "amount": D("7000.00")},
        {"name": "Other", "amount": D("866.95")},
    ]
    pricing = price_cdr(tariff_from(case / "tariff.json"), read_cdr_excerpt(data),
                        time_zone="America/Bogota")  # fmt: skip
    assert check_totals(pricing, read_cdr_excerpt(data), "2.3.0")[0] == []
    data["total_cost"]["taxes"] = [{"name": "IVA", "amount": D("7000.00")}]
    mismatches, _ = check_totals(pricing, read_cdr_excerpt(data), "2.3.0")
    assert [str(m) for m in mismatches] == [
        "total_cost.taxes: the CDR says 7000.00, the engine computes 7866.95"
    ]
