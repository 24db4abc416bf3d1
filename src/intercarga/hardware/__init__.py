"""The hardware layer: connectors, vehicles, "can this car charge here", country rules, coverage.

Facts (connector ratings and mappings, vehicle inlets per market, country rules) live in the
data files of ``data/`` with a source and date each; the functions here are pure and return
pydantic models that serialize to JSON, for the CLI and the admin API alike. Nothing in this
package does I/O beyond reading its own data files.
"""

from intercarga.hardware.compatibility import (
    ChargeMethod,
    CompatibilityResult,
    ConnectorVerdict,
    check_connector,
    check_evse,
    compatibility,
    connector_power_kw,
    usable_locations,
)
from intercarga.hardware.connectors import ConnectorSpec, connector_catalogue
from intercarga.hardware.coverage import CoverageIndicator, InletCoverage, coverage
from intercarga.hardware.rules import (
    ComplianceReport,
    Finding,
    comply,
    country_rules,
    distance_m,
    findings_per_location,
    nearby_reach_m,
    report_of,
)
from intercarga.hardware.vehicles import InletSet, Vehicle, inlet_set, vehicle_catalogue

__all__ = [
    "ChargeMethod",
    "CompatibilityResult",
    "ComplianceReport",
    "ConnectorSpec",
    "ConnectorVerdict",
    "CoverageIndicator",
    "Finding",
    "InletCoverage",
    "InletSet",
    "Vehicle",
    "check_connector",
    "check_evse",
    "compatibility",
    "comply",
    "connector_catalogue",
    "connector_power_kw",
    "country_rules",
    "coverage",
    "distance_m",
    "findings_per_location",
    "inlet_set",
    "nearby_reach_m",
    "report_of",
    "usable_locations",
    "vehicle_catalogue",
]
