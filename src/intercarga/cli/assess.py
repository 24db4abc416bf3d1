"""``intercarga assess``: a country's or the region's interoperability assessment as a report.

``intercarga assess CO --format md|html|json|pdf --language es|pt|en`` for one country,
``intercarga assess --region LAC`` for the heat map of every country. Desk facts only by default;
``--live`` adds the indicators measured from the configured deployment's database (with the
data quality of its locations, counted by the access point's registry) and its stored history, ``--save`` also stores this run in that history (docs/assessment.md). Bad input (an
unknown country, region, format or language) ends in one line naming the valid values, exit 2.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from intercarga.assessment import (
    check_format,
    framework,
    load_countries,
    load_country,
    render_country,
    render_region,
    translator,
)
from intercarga.assessment.scoring import assess as assess_desk
from intercarga.cli._common import run, run_async, settings_from
from intercarga.errors import InvalidInputError
from intercarga.web.api.assessment import check_region, live_country, live_region

__all__ = ["assess"]


async def _with_store(
    ctx: typer.Context,
    country: str | None,
    region: bool,
    language: str,
    fmt_name: str,
    save: bool,
    data: Path | None,
) -> bytes:
    from intercarga.app import System

    system = await System.open(settings_from(ctx))
    try:
        fmt = check_format(fmt_name)
        if region:
            found = await live_region(system.store, system.registry, data)
            return render_region(found, framework(), language, fmt)
        assert country is not None
        report = await live_country(system.store, system.registry, data, country, save=save)
        return render_country(report, framework(), language, fmt)
    finally:
        await system.close()


def _desk(
    country: str | None, region: bool, language: str, fmt_name: str, data: Path | None
) -> bytes:
    from intercarga.assessment import CountryReport, recommend

    fmt = check_format(fmt_name)
    fw = framework()
    now = datetime.now(UTC)
    if region:
        found = [assess_desk(fw, c, now) for c in load_countries(data).values()]
        return render_region(found, fw, language, fmt)
    assert country is not None
    assessment = assess_desk(fw, load_country(country, data), now)
    report = CountryReport(assessment=assessment, recommendations=recommend(assessment), history=[])
    return render_country(report, fw, language, fmt)


@run
def assess(
    ctx: typer.Context,
    country: Annotated[
        str | None, typer.Argument(help="ISO 3166-1 alpha-2 code of a LAC country, e.g. CO")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="The whole region: LAC", show_default=False)
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="md, html, json or pdf")] = "md",
    language: Annotated[str, typer.Option("--language", "-l", help="es, pt or en")] = "en",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Add indicators measured from the configured database, and history"
        ),
    ] = False,
    save: Annotated[
        bool,
        typer.Option("--save", help="Store this run in the country's history (implies --live)"),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="INTERCARGA_ASSESSMENT_DATA",
            help="Folder of country files (XX.toml); the package's own by default",
            show_default=False,
        ),
    ] = None,
) -> None:
    """A country's (or the region's) assessment: levels, gaps, recommendations, sources."""
    translator(language)
    check_format(format)
    if region is not None:
        check_region(region)
        if country is not None:
            raise InvalidInputError("give a country or --region, not both", field="country")
    elif country is None:
        raise InvalidInputError("give a country code (e.g. CO) or --region LAC", field="country")
    if save and region is not None:
        raise InvalidInputError("--save stores one country's run; give a country", field="save")
    if live or save:
        body = run_async(
            _with_store(ctx, country, region is not None, language, format, save, data)
        )
    else:
        body = _desk(country, region is not None, language, format, data)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(body)
