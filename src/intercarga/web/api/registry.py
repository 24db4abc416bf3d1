"""The national access point over the admin API (``/api/v1/registry/...``, bearer auth).

What a regulator looks at: the freshness monitor's flags, every country's reporting rule with its
source, data quality per location and CPO, reliability and uptime per EVSE, location and CPO
over any period, the CPOs below the threshold, and one EVSE's status history. The work is done by
:mod:`intercarga.registry`; this module only parses the query and translates to JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from intercarga.domain._types import utc_now
from intercarga.errors import InvalidInputError
from intercarga.registry import (
    CpoQuality,
    EvseKey,
    Flag,
    LocationQuality,
    Period,
    Ratio,
    Registry,
    Reliability,
    ReportingRule,
)
from intercarga.web.auth import require_admin

__all__ = ["flag_view", "registry_router", "reliability_view"]

DEFAULT_PERIOD = timedelta(days=30)


def flag_view(flag: Flag) -> dict[str, Any]:
    return {
        "level": flag.level,
        "subject": flag.subject,
        "rule": flag.rule,
        "detail": flag.detail,
        "source": flag.source,
    }


def _ratio(ratio: Ratio) -> dict[str, Any]:
    return {
        "percent": ratio.percent,
        "counted_s": ratio.counted.total_seconds(),
        "total_s": ratio.total.total_seconds(),
    }


def reliability_view(item: Reliability) -> dict[str, Any]:
    return {
        "level": item.level,
        "subject": item.subject,
        "uk_reliability": _ratio(item.uk),
        "nevi_uptime": _ratio(item.nevi),
    }


def _rule_view(rule: ReportingRule) -> dict[str, Any]:
    return {"country": rule.country, **rule.fields()}


def _location_quality(q: LocationQuality) -> dict[str, Any]:
    return {
        "location": f"{q.country_code}-{q.party_id}/{q.location_id}",
        "score": q.score,
        "failing": [{"rule": f.rule, "subject": f.subject, "detail": f.detail} for f in q.failing],
    }


def _cpo_quality(q: CpoQuality) -> dict[str, Any]:
    return {
        "cpo": f"{q.country_code}-{q.party_id}",
        "score": q.score,
        "locations": q.locations,
        "refusals": q.refusals,
        "failing_rules": list(q.failing_rules),
    }


def period_of(start: datetime | None, end: datetime | None) -> Period:
    """``[start, end)``; by default the last 30 days up to now."""
    end = end or utc_now()
    start = start or end - DEFAULT_PERIOD
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInputError("from and to need a time zone (e.g. Z)", "from")
    if end <= start:
        raise InvalidInputError("to must be after from", "to")
    return Period(start, end)


From = Annotated[
    datetime | None, Query(alias="from", description="period start (default: to − 30 days)")
]
To = Annotated[datetime | None, Query(alias="to", description="period end (default: now)")]


def registry_router(registry: Registry) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/registry", tags=["registry"], dependencies=[Depends(require_admin)]
    )

    @router.get("/status", summary="The access point at a glance: flags, CPOs, their scores")
    async def status() -> dict[str, Any]:
        flags = await registry.flags()
        quality = await registry.quality()
        return {
            "flags": [flag_view(f) for f in flags],
            "cpos": [
                {
                    **_cpo_quality(q),
                    "flags": sum(
                        1
                        for f in flags
                        if (f.country_code, f.party_id) == (q.country_code, q.party_id)
                    ),
                    "silent": any(
                        f.rule == "silent"
                        and (f.country_code, f.party_id) == (q.country_code, q.party_id)
                        for f in flags
                    ),
                }
                for q in quality.cpos
            ],
        }

    @router.get("/flags", summary="The freshness monitor: stale, silent and rule-breaking data")
    async def flags() -> list[dict[str, Any]]:
        return [flag_view(f) for f in await registry.flags()]

    @router.get("/rules", summary="Every country's reporting rule, with its source")
    async def rules() -> list[dict[str, Any]]:
        return [_rule_view(rule) for rule in registry.rules.by_country.values()]

    @router.get("/quality", summary="Data quality score per location and per CPO")
    async def quality() -> dict[str, Any]:
        found = await registry.quality()
        return {
            "cpos": [_cpo_quality(q) for q in found.cpos],
            "locations": [_location_quality(q) for q in found.locations],
        }

    @router.get("/reliability", summary="UK reliability and NEVI uptime per EVSE, location, CPO")
    async def reliability(start: From = None, end: To = None) -> list[dict[str, Any]]:
        return [reliability_view(r) for r in await registry.reliability(period_of(start, end))]

    @router.get(
        "/reliability/below-threshold",
        summary="The CPOs whose UK reliability is below the configured threshold",
    )
    async def below(start: From = None, end: To = None) -> dict[str, Any]:
        found = await registry.below_threshold(period_of(start, end))
        return {
            "threshold": registry.reliability_threshold,
            "cpos": [reliability_view(r) for r in found],
        }

    @router.get(
        "/history/{country_code}/{party_id}/{location_id}/{evse_uid}",
        summary="One EVSE's status history as reported",
    )
    async def history(
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        start: From = None,
        end: To = None,
    ) -> list[dict[str, Any]]:
        key = EvseKey(country_code.upper(), party_id.upper(), location_id, evse_uid)
        changes = await registry.store.status_history.history(key, start, end)
        return [
            {
                "at": c.at.isoformat(),
                "status": c.status.value,
                "source": c.source,
                "via": c.via,
                "received_at": c.received_at.isoformat(),
            }
            for c in changes
        ]

    return router
