"""Importing Open Charge Map files into the store: read, map, reject, find duplicates, write.

``intercarga ocm import FILE|DIR`` calls :func:`import_pois` with the POIs read by
:func:`read_pois` (an OCM API answer, one POI per file as ``ocm-export`` has them, or a folder of
either). Each POI becomes a Location of party ``<ISO2>-OCM`` with OCM's id, so importing the same
data twice changes nothing the second time (all "unchanged"). A POI within 250 m of a stored
stored Location (of an operator, or an earlier OCM listing) scoring at least the threshold is reported as that Location's
duplicate and not written: the operator's own data wins over crowd-sourced data. This module
must never write anything but Locations of the OCM party.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intercarga.errors import InvalidInputError
from intercarga.registry.ocm import (
    DUPLICATE_RADIUS_M,
    DUPLICATE_THRESHOLD,
    OCM_PARTY,
    DuplicateMatch,
    Mapped,
    OcmReference,
    Rejection,
    RejectReason,
    location_from_poi,
    match_score,
)
from intercarga.registry.open_data import Circle
from intercarga.store.open_data import PublishedLocations
from intercarga.store.repositories import PartyRepository

__all__ = ["ImportReport", "SourcedPoi", "import_pois", "read_pois"]


@dataclass(frozen=True, slots=True)
class SourcedPoi:
    source: str  # the file it came from, for the report
    poi: Any


@dataclass(slots=True)
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)
    duplicates: list[tuple[str, DuplicateMatch]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(
            len(part)
            for part in (self.created, self.updated, self.unchanged, self.rejected, self.duplicates)
        )

    def rejected_by_reason(self) -> dict[RejectReason, int]:
        counts: dict[RejectReason, int] = {}
        for _, rejection in self.rejected:
            counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": [
                {"ocm_id": r.ocm_id, "source": source, "reason": r.reason.value, "detail": r.detail}
                for source, r in self.rejected
            ],
            "duplicates": [
                {
                    "ocm_id": ocm_id,
                    "of": "/".join(match.key),
                    "score": match.score,
                    "distance_m": match.distance_m,
                }
                for ocm_id, match in self.duplicates
            ],
            "warnings": [{"ocm_id": ocm_id, "warning": text} for ocm_id, text in self.warnings],
        }


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json") if p.is_file())
    if path.is_file():
        return [path]
    raise InvalidInputError(f"{path} is neither a file nor a folder", field="path")


def read_pois(path: Path) -> Iterator[SourcedPoi]:
    """Every POI in ``path``: a JSON file holding one POI or a list of them, or a folder of
    such files (searched recursively, in name order)."""
    for file in _files(path):
        try:
            data = json.loads(file.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"{file}: not JSON ({error})", field="path") from None
        for poi in data if isinstance(data, list) else [data]:
            yield SourcedPoi(str(file), poi)


async def import_pois(
    pois: list[SourcedPoi],
    locations: PublishedLocations,
    parties: PartyRepository,
    reference: OcmReference,
    in_country: Callable[[str, float, float], bool],
    *,
    advance: Callable[[], None] = lambda: None,
    threshold: float = DUPLICATE_THRESHOLD,
) -> ImportReport:
    """Map, check and store each POI; ``advance`` is called once per POI (a progress bar)."""
    report = ImportReport()
    operators: dict[tuple[str, str], str | None] = {}
    for sourced in pois:
        outcome = location_from_poi(sourced.poi, reference, in_country)
        if isinstance(outcome, Rejection):
            report.rejected.append((sourced.source, outcome))
        else:
            await _store(outcome, locations, parties, operators, report, threshold)
        advance()
    return report


async def _store(
    mapped: Mapped,
    locations: PublishedLocations,
    parties: PartyRepository,
    operators: dict[tuple[str, str], str | None],
    report: ImportReport,
    threshold: float,
) -> None:
    location = mapped.location
    report.warnings += [(location.id, warning) for warning in mapped.warnings]
    stored = await locations.find(location.country_code, OCM_PARTY, location.id)
    if stored is not None:
        if stored == location:
            report.unchanged.append(location.id)
        else:
            await locations.put(location)
            report.updated.append(location.id)
        return
    box = Circle(
        float(location.coordinates.latitude),
        float(location.coordinates.longitude),
        DUPLICATE_RADIUS_M,
    ).box()
    best: DuplicateMatch | None = None
    for candidate in await locations.within((box.south, box.west, box.north, box.east)):
        party = (candidate.country_code, candidate.party_id)
        if party not in operators:
            # An OCM listing's operator is not kept in the Location: unknown, neither helps
            # nor hurts the score.
            found = None if candidate.party_id == OCM_PARTY else await parties.find(*party)
            operators[party] = None if found is None else found.name
        match = match_score(location, mapped.operator, candidate, operators[party])
        if best is None or match.score > best.score:
            best = match
    if best is not None and best.score >= threshold:
        report.duplicates.append((location.id, best))
        return
    await locations.put(location)
    report.created.append(location.id)
