"""Billing: the OCPI tariff engine (2.2.1 and 2.3.0) and the reading of tariffs and CDRs.

Compile a tariff once (:func:`compile_tariff`), then price as many sessions as needed
(:func:`price_cdr`, :func:`price_session`, :func:`estimate`). Results are exact
(:class:`CdrPricing`) until :meth:`CdrPricing.settled` rounds them once to the currency's minor
unit. docs/pricing.md gives the rules and every reading where OCPI is silent.

This package is pure: it never does I/O, never reaches a store, a clock or the network.
"""

from intercarga.billing.compiled import CompiledTariff, PricedTariff, compile_tariff
from intercarga.billing.documents import (
    CdrExcerpt,
    TariffTerms,
    read_cdr,
    read_cdr_excerpt,
    read_tariff,
    read_tariff_terms,
)
from intercarga.billing.engine import price_periods
from intercarga.billing.periods import (
    Period,
    periods_from_charging_periods,
    periods_from_meter_values,
)
from intercarga.billing.pricing import Estimate, PricedCdr, estimate, price_cdr, price_session
from intercarga.billing.result import CdrPricing, Line, Price, TaxLine

__all__ = [
    "CdrExcerpt",
    "CdrPricing",
    "CompiledTariff",
    "Estimate",
    "Line",
    "Period",
    "Price",
    "PricedCdr",
    "PricedTariff",
    "TariffTerms",
    "TaxLine",
    "compile_tariff",
    "estimate",
    "periods_from_charging_periods",
    "periods_from_meter_values",
    "price_cdr",
    "price_periods",
    "price_session",
    "read_cdr",
    "read_cdr_excerpt",
    "read_tariff",
    "read_tariff_terms",
]
