"""``intercarga ocm import FILE|DIR``: Open Charge Map POIs into the store, with a report.

A progress bar while it works (on the terminal only); then a summary: how many were read,
created, updated, unchanged, rejected (by reason, each named) and found to duplicate a stored
Location (with its score). ``--json`` prints the same report as JSON for scripts. Running it
twice on the same files changes nothing the second time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from intercarga.app import System
from intercarga.cli._common import err, out, run, run_async, settings_from
from intercarga.config import Settings
from intercarga.errors import InvalidInputError
from intercarga.geo import is_in_country
from intercarga.registry.ocm import OCM_LICENCE, OcmReference, ocm_reference
from intercarga.registry.ocm_import import ImportReport, import_pois, read_pois
from intercarga.store.open_data import PublishedLocations
from intercarga.store.repositories import PartyRepository

__all__ = ["app"]

app = typer.Typer(help="Open Charge Map: import POIs.", no_args_is_help=True)


def _reference(path: Path | None) -> OcmReference:
    if path is None:
        return ocm_reference()
    try:
        return OcmReference.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidInputError(
            f"{path}: not OCM reference data ({error})", field="reference"
        ) from None


async def _import(
    settings: Settings, path: Path, reference: OcmReference, bar: bool
) -> ImportReport:
    pois = list(read_pois(path))
    system = await System.open(settings)
    try:
        locations = PublishedLocations(system.engine)
        parties = PartyRepository(system.engine)
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            disable=not bar,
            transient=True,
        ) as progress:
            task = progress.add_task("import", total=len(pois))
            return await import_pois(
                pois,
                locations,
                parties,
                reference,
                lambda country, lat, lon: is_in_country(country, lat, lon),
                advance=lambda: progress.advance(task),
            )
    finally:
        await system.close()


def _summary(report: ImportReport) -> None:
    totals = Table(title="Open Charge Map import", show_header=False)
    for label, count in (
        ("read", report.read),
        ("created", len(report.created)),
        ("updated", len(report.updated)),
        ("unchanged", len(report.unchanged)),
        ("rejected", len(report.rejected)),
        ("duplicates", len(report.duplicates)),
    ):
        totals.add_row(label, str(count))
    out.print(totals)
    if report.rejected:
        rejected = Table(title="Rejected")
        for column in ("OCM id", "reason", "detail"):
            rejected.add_column(column)
        for _, rejection in report.rejected:
            rejected.add_row(rejection.ocm_id, rejection.reason.value, rejection.detail)
        out.print(rejected)
    if report.duplicates:
        duplicates = Table(title="Duplicates of stored locations (not imported)")
        for column in ("OCM id", "duplicate of", "score", "distance m"):
            duplicates.add_column(column)
        for ocm_id, match in report.duplicates:
            duplicates.add_row(
                ocm_id, "/".join(match.key), f"{match.score:.2f}", f"{match.distance_m:.0f}"
            )
        out.print(duplicates)
    out.print(f"[dim]{OCM_LICENCE}[/]")


@app.command("import")
@run
def import_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An OCM JSON file, or a folder of them.")],
    reference: Annotated[
        Path | None,
        typer.Option(help="OCM reference data (/referencedata JSON); default: the 2021 copy."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import Open Charge Map POIs: rejections and duplicates reported, re-imports idempotent."""
    settings = settings_from(ctx)
    data = _reference(reference)
    report = run_async(_import(settings, path, data, bar=not as_json and err.is_terminal))
    if as_json:
        out.print_json(json.dumps(report.as_json()))
    else:
        _summary(report)
