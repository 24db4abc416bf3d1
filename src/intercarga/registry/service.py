"""The access point service: what the NAP receiver and the pulls hand it, and what the admin API
and the CLI ask of it (flags, quality, reliability).

Built once by the composition root with the store, the reporting rules and the country outlines;
the OCPI NAP receiver calls :meth:`Registry.location_received` after storing a Location and
:meth:`Registry.refused` when it refuses one. Every judgement is made by the pure modules
(:mod:`.freshness`, :mod:`.quality`, :mod:`.reliability`); this module only gathers their input
from the store. It must never import OCPI or the web layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from intercarga.domain import Location
from intercarga.registry.freshness import Flag, TariffWindow, monitor
from intercarga.registry.history import changes_between, status_intervals
from intercarga.registry.quality import (
    CpoQuality,
    LocationContext,
    LocationQuality,
    alpha2,
    check_location,
    cpo_quality,
)
from intercarga.registry.reliability import (
    UK_THRESHOLD,
    Period,
    Ratio,
    combine,
    nevi_uptime,
    uk_reliability,
)
from intercarga.registry.rules import ReportingRules
from intercarga.store import Store
from intercarga.store.partners import PartnerRepository
from intercarga.store.registry import EvseKey, Refusal, Via, pull_key

__all__ = ["Quality", "Registry", "Reliability"]


def _now() -> datetime:
    # To the millisecond, unlike utc_now(): how late a status arrives is measured with it.
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Reliability:
    """UK reliability and NEVI uptime of one subject (an EVSE, a location, a CPO) over a period."""

    level: str  # "EVSE", "LOCATION", "CPO"
    subject: str
    uk: Ratio
    nevi: Ratio


@dataclass(frozen=True, slots=True)
class Quality:
    locations: list[LocationQuality]
    cpos: list[CpoQuality]


class Registry:
    """The national access point's registry over one store."""

    def __init__(
        self,
        store: Store,
        rules: ReportingRules,
        *,
        reliability_threshold: float = UK_THRESHOLD,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.rules = rules
        self.reliability_threshold = reliability_threshold
        self._clock = clock
        self._partners = PartnerRepository(store.engine)

    # -- what the NAP receiver and the pulls tell it ------------------------------------------
    async def location_received(
        self,
        before: Location | None,
        after: Location,
        *,
        via: Via,
        stored: Location | None = None,
    ) -> None:
        """``after`` was stored (``before`` was the copy it was made from): keep its status
        changes. ``stored``: what the store held just before this write, when it was read
        again under the write's lock; a report it already holds was kept by that other write (a
        pull and a push of one Location at once)."""
        source = f"{after.country_code}-{after.party_id}"
        changes = changes_between(before, after, source=source, via=via, received_at=self._clock())
        if stored is not None:
            held = {evse.uid: (evse.status, evse.last_updated) for evse in stored.evses}
            changes = [c for c in changes if held.get(c.evse.evse_uid) != (c.status, c.at)]
        await self.store.status_history.record(changes)

    async def refused(
        self,
        country_code: str,
        party_id: str,
        module: str,
        object_id: str,
        status_code: int,
        message: str,
    ) -> None:
        """An object was refused whole: counted against the CPO's quality score."""
        await self.store.refusals.add(
            Refusal(
                country_code.upper(),
                party_id.upper(),
                module,
                object_id,
                status_code,
                message,
                self._clock(),
            )
        )

    # -- what the regulator asks ---------------------------------------------------------------
    async def flags(self, now: datetime | None = None) -> list[Flag]:
        """The freshness monitor's flags at ``now``."""
        now = now or self._clock()
        locations = await self._locations()
        last_reported: dict[tuple[str, str, str, str], datetime] = dict(
            (await self.store.status_history.last_received()).items()
        )
        last_heard: dict[tuple[str, str], datetime] = {}
        for (cc, pid, _, _), at in last_reported.items():
            if (cc, pid) not in last_heard or at > last_heard[(cc, pid)]:
                last_heard[(cc, pid)] = at
        for party, at in (await self._pulled()).items():
            if party not in last_heard or at > last_heard[party]:
                last_heard[party] = at
        windows = await self._tariff_windows()
        return monitor(
            now,
            self.rules,
            locations,
            last_reported=last_reported,
            last_heard=last_heard,
            tariff_ids={party: frozenset(held) for party, held in windows.items()},
            parties=await self._cpo_parties(),
            tariff_windows=windows,
        )

    async def quality(self, now: datetime | None = None) -> Quality:
        """Every location's and every CPO's quality score, with the failing rules."""
        now = now or self._clock()
        found = await self._check(await self._locations(), now)
        refusals: dict[tuple[str, str], int] = {}
        for refusal in await self.store.refusals.list(since=now - timedelta(days=30)):
            party = (refusal.country_code, refusal.party_id)
            refusals[party] = refusals.get(party, 0) + 1
        parties = dict.fromkeys(
            [*await self._cpo_parties(), *((q.country_code, q.party_id) for q in found), *refusals]
        )
        cpos = [
            cpo_quality(
                cc,
                pid,
                [q for q in found if (q.country_code, q.party_id) == (cc, pid)],
                refusals.get((cc, pid), 0),
            )
            for cc, pid in parties
        ]
        return Quality(found, cpos)

    async def location_quality(
        self, country_code: str | None = None, now: datetime | None = None
    ) -> list[LocationQuality]:
        """Every location the store holds (of ``country_code``'s parties when given), the
        deployment's own as well as its partners', judged by the quality rules at ``now``: the
        figures the country assessment counts (``intercarga assess``, /api/v1/assessment)."""
        now = now or self._clock()
        filters = {} if country_code is None else {"country_code": country_code.upper()}
        locations = (await self.store.locations.list(limit=None, filters=filters)).items
        return await self._check(locations, now)

    async def reliability(self, period: Period) -> list[Reliability]:
        """UK reliability and NEVI uptime per EVSE, location and CPO over ``period``."""
        results: list[Reliability] = []
        by_party: dict[tuple[str, str], list[Location]] = {}
        for location in await self._locations():
            by_party.setdefault((location.country_code, location.party_id), []).append(location)
        for (cc, pid), locations in by_party.items():
            history = await self.store.status_history.of_party(cc, pid, period.start, period.end)
            party_uk: list[Ratio] = []
            party_nevi: list[Ratio] = []
            for location in locations:
                uk: list[Ratio] = []
                nevi: list[Ratio] = []
                for evse in location.evses:
                    key = EvseKey(cc, pid, location.id, evse.uid)
                    spans = status_intervals(history.get(key, []), period)
                    uk.append(
                        uk_reliability(spans, location.opening_times, period, location.time_zone)
                    )
                    nevi.append(nevi_uptime(spans, period))
                    results.append(Reliability("EVSE", str(key), uk[-1], nevi[-1]))
                results.append(
                    Reliability("LOCATION", f"{cc}-{pid}/{location.id}", combine(uk), combine(nevi))
                )
                party_uk += uk
                party_nevi += nevi
            results.append(
                Reliability("CPO", f"{cc}-{pid}", combine(party_uk), combine(party_nevi))
            )
        return results

    async def below_threshold(self, period: Period) -> list[Reliability]:
        """The CPOs whose UK reliability over ``period`` is under the configured threshold."""
        return [
            r
            for r in await self.reliability(period)
            if r.level == "CPO" and r.uk.below(self.reliability_threshold)
        ]

    # -- inputs --------------------------------------------------------------------------------
    async def _cpo_parties(self) -> list[tuple[str, str]]:
        """Every CPO party a registered partner hosts (the access point's reporting parties)."""
        partners = (await self._partners.list(limit=None)).items
        return [
            (role.country_code, role.party_id)
            for partner in partners
            for role in partner.roles
            if role.role == "CPO"
        ]

    async def _pulled(self) -> dict[tuple[str, str], datetime]:
        """When each CPO party was last pulled (an answered pull is being heard from)."""
        found: dict[tuple[str, str], datetime] = {}
        for partner in (await self._partners.list(limit=None)).items:
            for role in partner.roles:
                if role.role != "CPO":
                    continue
                party = (role.country_code, role.party_id)
                for module in ("locations", "tariffs"):
                    key = pull_key(module, role.country_code, role.party_id)
                    mark = await self.store.pull_marks.get(partner.id, key)
                    if mark is not None and (party not in found or mark.pulled_at > found[party]):
                        found[party] = mark.pulled_at
        return found

    async def _locations(self) -> Sequence[Location]:
        """The locations of the CPO parties registered partners host (not our own parties')."""
        parties = set(await self._cpo_parties())
        found = (await self.store.locations.list(limit=None)).items
        return [loc for loc in found if (loc.country_code, loc.party_id) in parties]

    async def _check(self, locations: Sequence[Location], now: datetime) -> list[LocationQuality]:
        """Each location judged by every quality rule, with what the store knows around it."""
        last_reported = await self.store.status_history.last_received()
        changes = await self.store.status_history.count_since(now - timedelta(days=1))
        tariffs = await self._tariff_ids()
        found: list[LocationQuality] = []
        for location in locations:
            party = (location.country_code, location.party_id)
            rule = self.rules.for_country(alpha2(location.country) or location.country_code)
            key = (*party, location.id)
            context = LocationContext(
                location=location,
                now=now,
                rule=rule,
                tariff_ids=tariffs.get(party, frozenset()),
                last_reported={
                    evse.uid: last_reported[EvseKey(*key, evse.uid)]
                    for evse in location.evses
                    if EvseKey(*key, evse.uid) in last_reported
                },
                changes_last_day={
                    evse.uid: changes.get(EvseKey(*key, evse.uid), 0) for evse in location.evses
                },
            )
            found.append(check_location(context))
        return found

    async def _tariff_ids(self) -> dict[tuple[str, str], frozenset[str]]:
        return {party: frozenset(held) for party, held in (await self._tariff_windows()).items()}

    async def _tariff_windows(self) -> dict[tuple[str, str], dict[str, TariffWindow]]:
        """Every held tariff per CPO, by id, with when it applies."""
        found: dict[tuple[str, str], dict[str, TariffWindow]] = {}
        for tariff in (await self.store.tariffs.list(limit=None)).items:
            found.setdefault((tariff.country_code, tariff.party_id), {})[tariff.id] = TariffWindow(
                tariff.start_date_time, tariff.end_date_time
            )
        return found
