"""The live-data side of the assessment: reads a deployment's store into a plain
:class:`~intercarga.assessment.indicators.DeploymentSnapshot`, and keeps each run's result.

This is the one module of the package that touches the store; the scoring, indicators and
reports stay pure. It must never decide a level itself: it reads, hands values to the pure
modules and stores what they return. The access point's data quality per country is handed in
(``quality``) by the callers, which sit above the registry: this package may not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from intercarga.assessment.countries import CountryFile
from intercarga.assessment.framework import Framework
from intercarga.assessment.indicators import (
    AuthorizationAsk,
    DataQuality,
    DeploymentSnapshot,
    SessionRecord,
    StationRecord,
)
from intercarga.assessment.recommend import recommend
from intercarga.assessment.report import CountryReport, HistoryPoint
from intercarga.assessment.scoring import CountryAssessment, assess
from intercarga.domain.partner import PartnerState
from intercarga.store import Store
from intercarga.store.assessment_runs import AssessmentRun
from intercarga.store.partners import PartnerRepository

__all__ = ["assess_live", "country_report", "history", "read_snapshot", "save_run"]


async def read_snapshot(
    store: Store,
    country: str,
    taken_at: datetime,
    *,
    authorizations_since: datetime | None = None,
    quality: Mapping[str, DataQuality] | None = None,
) -> DeploymentSnapshot:
    """What the deployment holds about ``country``: locations with EVSE statuses, stations,
    tariffs, eMSP partners, sessions (with the party that issued each session's token), the
    real-time authorizations its CPO side asked (from ``authorizations_since`` on) and, when the
    caller counted it, the data quality of its locations."""
    filters = {"country_code": country}
    asked = await store.authorizations.of_country(country, since=authorizations_since)
    locations = (await store.locations.list(limit=None, filters=filters)).items
    stations = (await store.stations.list(limit=None, filters=filters)).items
    tariffs = (await store.tariffs.list(limit=None, filters=filters)).items
    sessions = (await store.sessions.list(limit=None, filters=filters)).items
    partners = (await PartnerRepository(store.engine).list(limit=None)).items
    issuers: dict[str, str | None] = {}
    for session in sessions:
        uid = session.token_uid
        if uid is not None and uid not in issuers:
            tokens = await store.tokens.find_by_uid(uid)
            issuers[uid] = f"{tokens[0].country_code}-{tokens[0].party_id}" if tokens else None
    return DeploymentSnapshot(
        taken_at=taken_at,
        locations=locations,
        stations=[
            StationRecord(
                id=s.id,
                country_code=s.country_code,
                ocpp_version=None if s.ocpp_version is None else s.ocpp_version.value,
                security_profile=s.security_profile,
            )
            for s in stations
        ],
        tariffs=frozenset((t.country_code, t.party_id, t.id) for t in tariffs),
        emsp_partners=sum(
            1
            for p in partners
            if p.state is PartnerState.REGISTERED and any(r.role == "EMSP" for r in p.roles)
        ),
        sessions=[
            SessionRecord(
                country_code=s.country_code,
                party_id=s.party_id,
                token_issuer=None if s.token_uid is None else issuers.get(s.token_uid),
            )
            for s in sessions
        ],
        authorizations=[
            AuthorizationAsk(
                country_code=a.country_code, asked_at=a.asked_at, outcome=a.outcome.value
            )
            for a in asked
        ],
        quality={country: quality[country]} if quality and country in quality else {},
    )


async def save_run(store: Store, assessment: CountryAssessment) -> None:
    await store.assessment_runs.add(
        AssessmentRun(
            country_code=assessment.code,
            assessed_at=assessment.assessed_at,
            live_data=assessment.live_data,
            levels={layer.layer: layer.current for layer in assessment.layers},
            assessment=assessment.model_dump(mode="json"),
        )
    )


async def history(store: Store, country: str) -> list[HistoryPoint]:
    return [
        HistoryPoint(assessed_at=run.assessed_at, live_data=run.live_data, levels=run.levels)
        for run in await store.assessment_runs.history(country)
    ]


async def assess_live(
    store: Store | None,
    fw: Framework,
    country: CountryFile,
    at: datetime,
    *,
    quality: Mapping[str, DataQuality] | None = None,
) -> CountryAssessment:
    """The country's assessment, with the deployment's live data when there is a store (and
    its data quality per country code, when the caller counted it)."""
    window = timedelta(days=fw.defaults.authorization_window_days)
    snapshot = (
        None
        if store is None
        else await read_snapshot(
            store, country.code, at, authorizations_since=at - window, quality=quality
        )
    )
    return assess(fw, country, at, snapshot)


async def country_report(
    store: Store | None,
    fw: Framework,
    country: CountryFile,
    at: datetime,
    *,
    quality: Mapping[str, DataQuality] | None = None,
    save: bool = False,
) -> CountryReport:
    """Assessment, recommendations and history of one country; ``save`` stores this run first,
    so the history ends with it."""
    assessment = await assess_live(store, fw, country, at, quality=quality)
    if store is not None and save:
        await save_run(store, assessment)
    points = [] if store is None else await history(store, country.code)
    return CountryReport(
        assessment=assessment, recommendations=recommend(assessment), history=points
    )
