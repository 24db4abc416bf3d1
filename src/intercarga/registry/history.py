"""EVSE status history: every status change a CPO reported, kept as it came (time, status,
source CPO, pushed or pulled), and the pure step from a stored Location to the changes it brings.

The rows live in the store (:class:`~intercarga.store.registry.StatusHistoryRepository`:
``record(changes)``, ``history(evse, since, until)``, ``of_party(...)``); this module names
them for the registry's users and decides, purely, which changes a new copy of a Location holds.
It must never read a clock (``received_at`` is passed in).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from intercarga.domain import Location
from intercarga.registry.reliability import Period, StatusInterval, intervals
from intercarga.store.registry import EvseKey, StatusChange, StatusHistoryRepository, Via

__all__ = [
    "EvseKey",
    "StatusChange",
    "StatusHistory",
    "Via",
    "changes_between",
    "status_intervals",
]

StatusHistory = StatusHistoryRepository
"""The repository: ``await history.record([...])``, ``await history.history(evse, since, until)``."""


def changes_between(
    before: Location | None,
    after: Location,
    *,
    source: str,
    via: Via,
    received_at: datetime,
) -> list[StatusChange]:
    """The status reports ``after`` brings over ``before`` (``None``: a first copy, every EVSE's
    status is one). An EVSE counts when its status or its ``last_updated`` moved: a CPO telling
    the same status again at a new time is heard from (freshness), while a copy that repeats what
    is held adds nothing. A report is dated by the EVSE's ``last_updated`` (when the CPO says the
    status held)."""
    known = (
        {evse.uid: (evse.status, evse.last_updated) for evse in before.evses}
        if before is not None
        else {}
    )
    found: list[StatusChange] = []
    for evse in after.evses:
        if known.get(evse.uid) == (evse.status, evse.last_updated):
            continue
        found.append(
            StatusChange(
                evse=EvseKey(after.country_code, after.party_id, after.id, evse.uid),
                at=evse.last_updated,
                status=evse.status,
                source=source,
                via=via,
                received_at=received_at,
            )
        )
    return found


def status_intervals(changes: Sequence[StatusChange], period: Period) -> list[StatusInterval]:
    """``changes`` (as :meth:`StatusHistoryRepository.history` returns them) cut into intervals."""
    return intervals(((c.at, c.status) for c in changes), period)
