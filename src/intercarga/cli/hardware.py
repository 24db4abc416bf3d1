"""Hardware commands: ``compat``, ``comply``, ``vehicles list`` and ``connectors list``.

Thin: each command reads its input files, calls the pure functions of
:mod:`intercarga.hardware`, and prints a table or JSON. ``cli/__init__.py`` names them.
Nothing here decides compatibility or compliance itself.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from intercarga.cli._common import out, run
from intercarga.domain.location import Location
from intercarga.errors import InvalidInputError
from intercarga.hardware import (
    compatibility,
    comply,
    connector_catalogue,
    inlet_set,
    vehicle_catalogue,
)
from intercarga.hardware.compatibility import CompatibilityResult
from intercarga.hardware.rules import ComplianceReport, Severity
from intercarga.hardware.vehicles import InletSet, Vehicle

__all__ = ["compat", "comply_command", "connectors_app", "vehicles_app"]

EXIT_FINDINGS = 1

vehicles_app = typer.Typer(help="The vehicle catalogue (inlets and power per market).")
connectors_app = typer.Typer(help="The connector catalogue (every OCPI ConnectorType).")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def load_locations(path: Path) -> list[Location]:
    """Locations from a JSON file holding one Location object or a list of them."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"no such file: {path}", field="locations") from None
    except (OSError, ValueError) as error:
        raise InvalidInputError(
            f"{path} is not readable JSON: {error}", field="locations"
        ) from None
    items = raw if isinstance(raw, list) else [raw]
    locations = []
    for index, item in enumerate(items):
        try:
            locations.append(Location.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInputError(
                f"{path} item {index}: {where}: {first['msg']}", field="locations"
            ) from None
    return locations


def _stored_location(ctx: typer.Context, reference: str) -> list[Location]:
    """The location ``CC/PARTY/ID`` (or a unique bare id) from the configured database."""
    from intercarga.app import System
    from intercarga.cli._common import settings_from
    from intercarga.web.api.hardware import find_location

    async def find() -> Location:
        system = await System.open(settings_from(ctx))
        try:
            return await find_location(system.store, reference)
        finally:
            await system.close()

    return [asyncio.run(find())]


@run
def compat(
    ctx: typer.Context,
    location: Annotated[
        str,
        typer.Option(
            "--location",
            "-l",
            help="A location in the database (CC/PARTY/ID or a unique id), or a Location JSON"
            " file (one object, or a list).",
        ),
    ],
    vehicle: Annotated[
        str | None, typer.Option("--vehicle", "-v", help='Vehicle name, e.g. "BYD Dolphin".')
    ] = None,
    market: Annotated[
        str | None,
        typer.Option("--market", "-m", help="Country the vehicle was sold for (ISO alpha-2)."),
    ] = None,
    inlets: Annotated[
        list[str] | None,
        typer.Option("--inlet", help="Instead of --vehicle: an inlet, e.g. Type 2, CCS2."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Can this vehicle charge at this location, how fast, and with what cable?"""
    subject: str | InletSet
    if inlets:
        subject = inlet_set(inlets)
    elif vehicle:
        subject = vehicle
    else:
        raise InvalidInputError("give --vehicle NAME --market CC, or --inlet", field="vehicle")
    path = Path(location)
    locations = (
        load_locations(path)
        if path.suffix == ".json" or path.exists()
        else _stored_location(ctx, location)
    )
    results = [compatibility(subject, market, loc) for loc in locations]
    if as_json:
        payload = [r.model_dump(mode="json") for r in results]
        out.print_json(json.dumps(payload[0] if len(payload) == 1 else payload))
        return
    for result in results:
        _print_compat(result)


def _print_compat(result: CompatibilityResult) -> None:
    who = f"{result.vehicle} ({result.market})" if result.vehicle else "this inlet set"
    headline = {
        True: "[green]can charge[/]",
        False: "[red]cannot charge[/]",
        None: "[yellow]unknown[/]",
    }
    power = f" up to {result.max_power_kw:g} kW" if result.max_power_kw else ""
    out.print(f"{who} at {result.location_id}: {headline[result.can_charge]}{power}")
    if result.best is not None and result.best.can_charge:
        best = result.best
        how = best.via or best.method
        out.print(f"best: EVSE {best.evse_uid} connector {best.connector_id}, {how}")
    table = Table("EVSE", "connector", "standard", "can charge", "how", "kW", "why")
    for verdict in result.connectors:
        why = "; ".join([verdict.reason, *verdict.warnings])
        table.add_row(
            verdict.evse_uid or "",
            verdict.connector_id or "",
            verdict.standard.value,
            {True: "yes", False: "no", None: "unknown"}[verdict.can_charge],
            verdict.via or (verdict.method.value if verdict.method else ""),
            "" if verdict.max_power_kw is None else f"{verdict.max_power_kw:g}",
            why,
        )
    out.print(table)


def comply_command(
    country: Annotated[str, typer.Option("--country", "-c", help="ISO 3166-1 alpha-2 code.")],
    locations: Annotated[
        Path, typer.Option("--locations", "-l", help="JSON file: a list of Location objects.")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge deadlines at this date (YYYY-MM-DD); default today."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List each non-compliant location/EVSE with the rule, its source and the fix.

    Exit 0 when compliant, 1 when a rule is violated, 2 on bad input.
    """
    report = _comply(country, locations, as_of)
    if as_json:
        out.print_json(report.model_dump_json())
    else:
        _print_report(report)
    if not report.compliant:
        raise typer.Exit(EXIT_FINDINGS)


@run
def _comply(country: str, locations: Path, as_of: str | None) -> ComplianceReport:
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidInputError(
                f"{as_of!r} is not a YYYY-MM-DD date", field="--as-of"
            ) from None
    return comply(country, load_locations(locations), day)


def _print_report(report: ComplianceReport) -> None:
    out.print(f"{report.country}: {report.summary}")
    out.print(f"rules status: {report.status.value}; as of {report.as_of}")
    out.print(
        f"checked {report.locations_checked} locations, {report.evses_checked} EVSEs"
        + (
            f" ({report.locations_skipped} of other countries skipped)"
            if report.locations_skipped
            else ""
        )
    )
    if not report.findings:
        out.print("[green]no findings[/]")
        return
    for finding in report.findings:
        colour = "red" if finding.severity is Severity.VIOLATION else "yellow"
        where = finding.location_id + (f" / EVSE {finding.evse_uid}" if finding.evse_uid else "")
        out.print(f"[{colour}]{finding.severity.value}[/] {where}: {finding.message}")
        out.print(f"  rule: {finding.rule_id} — {finding.rule}")
        out.print(
            f"  source: {finding.source_title}, {finding.source_date} ({finding.confidence.value})"
        )
        out.print(f"  fix: {finding.fix}")


@vehicles_app.command("list")
@run
def list_vehicles(
    market: Annotated[
        str | None, typer.Option("--market", "-m", help="Only models known in this market.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The models in the catalogue with their inlets and power per market."""
    vehicles = [v for v in vehicle_catalogue() if market is None or market.upper() in v.markets]
    if as_json:
        out.print_json(json.dumps([v.model_dump(mode="json") for v in vehicles]))
        return
    table = Table("vehicle", "market", "AC inlet", "AC kW", "DC inlet", "DC kW", "confidence")
    for vehicle in vehicles:
        for variant in vehicle.market:
            if market is None or variant.country == market.upper():
                table.add_row(
                    vehicle.name, variant.country, *_variant_cells(vehicle, variant.country)
                )
    out.print(table)


def _variant_cells(vehicle: Vehicle, market: str) -> list[str]:
    variant = vehicle.variant(market)

    def value(field: str) -> str:
        got = getattr(variant, field)
        if got is None:
            return "unknown" if field in variant.unknown else "—"
        return f"{got:g}" if isinstance(got, float) else str(got)

    confidences = {p.confidence.value for p in (variant.ac, variant.dc, variant.power) if p}
    return [
        value("ac_inlet"),
        value("ac_kw") + (f" ({variant.ac_phases}ph)" if variant.ac_phases else ""),
        value("dc_inlet"),
        value("dc_kw"),
        ", ".join(sorted(confidences)) or "unknown",
    ]


@connectors_app.command("list")
@run
def list_connectors(
    language: Annotated[str, typer.Option("--lang", help="Names in en, es or pt.")] = "en",
    as_json: JsonOption = False,
) -> None:
    """Every OCPI ConnectorType with AC/DC, phases, ratings and OCM/OCPP mappings."""
    if language not in ("en", "es", "pt"):
        raise InvalidInputError("choose en, es or pt", field="--lang")
    specs = list(connector_catalogue())
    if as_json:
        out.print_json(json.dumps([s.model_dump(mode="json") for s in specs]))
        return
    table = Table("OCPI", "name", "current", "phases", "typical kW", "max kW", "OCM", "OCPP 2.0.1")
    for spec in specs:
        table.add_row(
            spec.standard.value,
            spec.display(language),
            spec.current.value,
            "" if spec.phases is None else str(spec.phases),
            "" if spec.typical_kw is None else f"{spec.typical_kw:g}",
            "" if spec.max_kw is None else f"{spec.max_kw:g}",
            ", ".join(str(i) for i in spec.ocm_ids),
            ", ".join(spec.ocpp201),
        )
    out.print(table)
