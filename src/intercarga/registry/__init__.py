"""The information layer: Intercarga as a national access point (NAP) a regulator can run.

CPOs register over OCPI and push (or are pulled for) their Locations and Tariffs; the registry
keeps every EVSE status change (:mod:`.history`), holds each country's reporting rules as data
(:mod:`.rules`), flags stale and silent data (:mod:`.freshness`), scores data quality
(:mod:`.quality`) and measures reliability and uptime with the UK and NEVI formulas
(:mod:`.reliability`). The pure modules (rules, freshness, quality, reliability) import no
store, web or database library; :mod:`.service` gathers their input from the store. Nothing here
knows OCPI: the NAP receiver in ``ocpi/`` calls the service.

Open data for anyone (:mod:`.open_data`: the query, filters, renderings and statistics; its
router is ``web/api/open_data.py``) publishes only ``publish: true`` Locations; :mod:`.ocm`
and :mod:`.ocm_import` bring Open Charge Map POIs in, :mod:`.export_ocm` writes Locations out
in OCM's shape. Nothing here publishes a token, a session, a CDR or a credential.
"""

from intercarga.registry.freshness import Flag, TariffWindow, monitor
from intercarga.registry.history import (
    EvseKey,
    StatusChange,
    StatusHistory,
    changes_between,
    status_intervals,
)
from intercarga.registry.quality import (
    LOCATION_RULES,
    CpoQuality,
    Finding,
    LocationContext,
    LocationQuality,
    check_location,
    cpo_quality,
)
from intercarga.registry.reliability import (
    NEVI_THRESHOLD,
    UK_THRESHOLD,
    Period,
    Ratio,
    StatusInterval,
    combine,
    intervals,
    nevi_uptime,
    open_periods,
    uk_reliability,
)
from intercarga.registry.rules import ReportingRule, ReportingRules, load_rules
from intercarga.registry.service import Quality, Registry, Reliability

__all__ = [
    "LOCATION_RULES",
    "NEVI_THRESHOLD",
    "UK_THRESHOLD",
    "CpoQuality",
    "EvseKey",
    "Finding",
    "Flag",
    "LocationContext",
    "LocationQuality",
    "Period",
    "Quality",
    "Ratio",
    "Registry",
    "Reliability",
    "ReportingRule",
    "ReportingRules",
    "StatusChange",
    "StatusHistory",
    "StatusInterval",
    "TariffWindow",
    "changes_between",
    "check_location",
    "combine",
    "cpo_quality",
    "intervals",
    "load_rules",
    "monitor",
    "nevi_uptime",
    "open_periods",
    "status_intervals",
    "uk_reliability",
]
