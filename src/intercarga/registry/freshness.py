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
- **Prices** (``prices``), where the country wants prices in real time (``realtime_prices``,
  Chile): every connector must have a price in force now — a tariff the registry holds whose
  ``start_date_time``/``end_date_time`` include ``now``. A tariff never received, or one that has
  ended with nothing after it, is a price the driver cannot see. How recent the CPO's feed is
  (prices included) is the ``silent`` flag: OCPI has no heartbeat per tariff, and a price that
  has not changed in a month is not stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from intercarga.domain import Location
from intercarga.registry.quality import LOCATION_RULES, LocationContext, alpha2
from intercarga.registry.rules import ReportingRules

__all__ = ["Flag", "Level", "TariffWindow", "monitor", "prices_in_force"]

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


@dataclass(frozen=True, slots=True)
class TariffWindow:
    """When a tariff applies (OCPI ``start_date_time`` / ``end_date_time``; None: unbounded)."""

    start: datetime | None = None
    end: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)


def prices_in_force(
    location: Location, now: datetime, tariffs: Mapping[str, TariffWindow]
) -> list[tuple[str, str]]:
    """(subject, detail) for every connector of ``location`` without a price in force at ``now``
    among ``tariffs`` (the tariffs the registry holds of the location's CPO, by id)."""
    missing: list[tuple[str, str]] = []
    for evse in location.evses:
        for connector in evse.connectors:
            subject = f"{location.id}/{evse.uid}/{connector.id}"
            held = [tariffs[t] for t in connector.tariff_ids if t in tariffs]
            if not connector.tariff_ids:
                missing.append((subject, "no tariff_ids: no price"))
            elif not held:
                names = ", ".join(connector.tariff_ids)
                missing.append((subject, f"tariff {names} not received: no price"))
            elif not any(window.in_force(now) for window in held):
                names = ", ".join(t for t in connector.tariff_ids if t in tariffs)
                missing.append((subject, f"tariff {names} not in force now: no current price"))
    return missing


def monitor(
    now: datetime,
    rules: ReportingRules,
    locations: Sequence[Location],
    *,
    last_reported: Mapping[EvseTuple, datetime],
    last_heard: Mapping[PartyKey, datetime],
    tariff_ids: Mapping[PartyKey, frozenset[str]],
    parties: Sequence[PartyKey] = (),
    tariff_windows: Mapping[PartyKey, Mapping[str, TariffWindow]] | None = None,
) -> list[Flag]:
    """Every flag at ``now``: silent CPOs (``parties`` plus every party holding a location),
    stale EVSEs and locations, mandatory rules broken, and connectors without a price in force
    where the country wants real-time prices. ``tariff_windows``: when each held tariff applies
    (a tariff in ``tariff_ids`` missing from it applies always)."""
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
        if rule.realtime_prices:
            windows = (tariff_windows or {}).get(party, {})
            held = {t: windows.get(t, TariffWindow()) for t in context.tariff_ids}
            for subject, detail in prices_in_force(location, now, held):
                flags.append(
                    Flag(
                        "LOCATION",
                        *party,
                        f"{location.country_code}-{location.party_id}/{subject}",
                        "prices",
                        f"{detail}; {rule.country} wants prices in real time",
                        rule.source,
                    )
                )
    return flags
