"""The words for values that come from data: statuses, connector standards, power types, ways to
charge, the country rules' states, a finding's weight, a station's registration and a roaming
partner's state — in the page's language.

Codes (``AVAILABLE``, ``IEC_62196_T2``, ``AC_3_PHASE``) are what the store and OCPI hold; a page
shows what they mean, through the dashboard's catalogs like every other string, so that the
translation test sees them. A code with no word here shows as itself (a new OCPI value must not
break a page). This module must never decide anything about the values it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from intercarga.dashboard.i18n import Translator
from intercarga.hardware import connector_catalogue

__all__ = ["Words"]


@dataclass(frozen=True)
class Words:
    """Every value-to-word table for one language; ``words.status("CHARGING")`` → "Cargando"."""

    statuses: Mapping[str, str]
    power_types: Mapping[str, str]
    methods: Mapping[str, str]
    rule_states: Mapping[str, str]
    severities: Mapping[str, str]
    standards: Mapping[str, str]
    registrations: Mapping[str, str]
    partner_states: Mapping[str, str]

    @classmethod
    def of(cls, _: Translator) -> Words:
        return cls(
            statuses={
                "AVAILABLE": _("Available"),
                "CHARGING": _("Charging"),
                "BLOCKED": _("Blocked"),
                "INOPERATIVE": _("Inoperative"),
                "OUTOFORDER": _("Out of order"),
                "PLANNED": _("Planned"),
                "REMOVED": _("Removed"),
                "RESERVED": _("Reserved"),
                "UNKNOWN": _("Unknown"),
            },
            power_types={
                "AC_1_PHASE": _("AC, one phase"),
                "AC_2_PHASE": _("AC, two phases"),
                "AC_2_PHASE_SPLIT": _("AC, split phase"),
                "AC_3_PHASE": _("AC, three phases"),
                "DC": _("DC"),
                "AC": _("AC"),
                "AC_DC": _("AC or DC"),
            },
            methods={
                "direct": _("Plugs straight in"),
                "mode3_cable": _("With a charging cable (Mode 3)"),
                "mode2_cable": _("With the car's portable cable (Mode 2)"),
                "certified_adapter": _("With an adapter certified by the carmaker"),
                "noncompliant_adapter": _("Only with an adapter the standard forbids"),
                "none": _("No way to connect"),
            },
            rule_states={
                "rules": _("Connector rules in force"),
                "not_checkable": _("Rules that cannot be checked from station data"),
                "no_rule": _("No connector rule"),
                "no_rule_known": _("No rule on record"),
            },
            severities={"violation": _("Violation"), "warning": _("Warning")},
            registrations={
                "Accepted": _("Accepted"),
                "Pending": _("Pending"),
                "Rejected": _("Rejected"),
            },
            partner_states={
                "INVITED": _("Invited"),
                "REGISTERING": _("Registering"),
                "REGISTERED": _("Registered"),
                "UNREGISTERED": _("Unregistered"),
            },
            standards={
                spec.standard.value: spec.name.get(_.language) or spec.name.get("en") or ""
                for spec in connector_catalogue()
            },
        )

    def status(self, code: str) -> str:
        return self.statuses.get(code, code)

    def power_type(self, code: str) -> str:
        return self.power_types.get(code, code)

    def method(self, code: str | None) -> str:
        return "—" if code is None else self.methods.get(code, code)

    def rule_state(self, code: str) -> str:
        return self.rule_states.get(code, code)

    def severity(self, code: str) -> str:
        return self.severities.get(code, code)

    def registration(self, code: str) -> str:
        return self.registrations.get(code, code)

    def partner_state(self, code: str) -> str:
        return self.partner_states.get(code, code)

    def standard(self, code: str) -> str:
        return self.standards.get(code) or code
