"""The freshness monitor: which EVSEs, locations and CPOs are stale or silent, and which data
breaks its country's reporting rule (a mandatory quality rule failing).

Pure, like ``ocpp/rpc.py``: what the registry knows and ``now`` in, :class:`Flag` s out. The
service feeds it from the store; this module must never read a clock, the store or the network.

- An **EVSE** is *stale* when its last status report (push or pull; else its ``last_updated``)
  is older than its country's ``stale_after``.
- A **location** is *stale* when all its EVSEs are (and it has some).
- A **CPO** is *silent* when it has not been heard from (a push of anything, an answered pull)
  for longer than its country's ``status_window`` — the time within which the country wants a
  status change known (Colombia: 60 s).
- A **rule break**: a location failing one of its country's ``mandatory`` quality rules
  (``opening_hours``, ``tariff``: see :mod:`intercarga.registry.quality`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from intercarga.domain import Location
from intercarga.registry.quality import LOCATION_RULES, LocationContext, alpha2
from intercarga.registry.rules import ReportingRules

__all__ = ["Flag", "Level", "monitor"]

Level = Literal["EVSE", "LOCATION", "CPO"]

PartyKey = tuple[str, str]  # (country_code, party_id)
EvseTuple = tuple[str, str, str, str]  # (country_code, party_id, location_id, evse_uid)


@dataclass(frozen=True, slots=True)
class Flag:
    """One thing the regulator should look at: ``rule`` broken by ``subject``."""

    level: Level
    country_code: str
    party_id: str
    subject: str  # "CO-ABC", "CO-ABC/LOC1", "CO-ABC/LOC1/EVSE1"
    rule: str  # "silent", "stale", or a mandatory quality rule ("tariff", "opening_hours")
    detail: str
    source: str  # the reporting rule's source


def monitor(
    now: datetime,
    rules: ReportingRules,
    locations: Sequence[Location],
    *,
    last_reported: Mapping[EvseTuple, datetime],
    last_heard: Mapping[PartyKey, datetime],
    tariff_ids: Mapping[PartyKey, frozenset[str]],
    parties: Sequence[PartyKey] = (),
) -> list[Flag]:
    """Every flag at ``now``: silent CPOs (``parties`` plus every party holding a location),
    stale EVSEs and locations, and mandatory rules broken."""
    flags: list[Flag] = []
    everyone = dict.fromkeys([*parties, *((loc.country_code, loc.party_id) for loc in locations)])
    for country_code, party_id in everyone:
        rule = rules.for_country(country_code)
        heard = last_heard.get((country_code, party_id))
        if heard is None or now - heard > rule.status_window:
            ago = "never" if heard is None else f"{int((now - heard).total_seconds())} s ago"
            flags.append(
                Flag(
                    "CPO",
                    country_code,
                    party_id,
                    f"{country_code}-{party_id}",
                    "silent",
                    f"last heard {ago}; {rule.country} wants changes within "
                    f"{int(rule.status_window.total_seconds())} s",
                    rule.source,
                )
            )
    for location in locations:
        party = (location.country_code, location.party_id)
        rule = rules.for_country(alpha2(location.country) or location.country_code)
        prefix = f"{location.country_code}-{location.party_id}/{location.id}"
        stale = 0
        for evse in location.evses:
            last = last_reported.get((*party, location.id, evse.uid), evse.last_updated)
            if now - last > rule.stale_after:
                stale += 1
                flags.append(
                    Flag(
                        "EVSE",
                        *party,
                        f"{prefix}/{evse.uid}",
                        "stale",
                        f"last status {int((now - last).total_seconds())} s ago; "
                        f"{rule.country} allows {int(rule.stale_after.total_seconds())} s",
                        rule.source,
                    )
                )
        if location.evses and stale == len(location.evses):
            flags.append(
                Flag("LOCATION", *party, prefix, "stale", "every EVSE is stale", rule.source)
            )
        context = LocationContext(
            location=location, now=now, rule=rule, tariff_ids=tariff_ids.get(party, frozenset())
        )
        for name in rule.mandatory:
            for finding in LOCATION_RULES[name](context):
                if not finding.passed:
                    subject = f"{location.country_code}-{location.party_id}/{finding.subject}"
                    flags.append(
                        Flag("LOCATION", *party, subject, name, finding.detail, rule.source)
                    )
    return flags
