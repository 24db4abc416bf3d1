"""``intercarga tariff``: price a CDR with an OCPI tariff, check its totals, explain a tariff.

``price`` exits 0 with the totals and the breakdown; with ``--check`` it compares them with the
totals the CDR states and exits 1 naming each mismatch. Bad input (unreadable file, not JSON, not
a valid OCPI tariff or CDR, currencies that differ) is one line on stderr and exit 2. The pricing
lives in :mod:`intercarga.billing`; this module reads the files and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from intercarga.billing import compile_tariff, price_cdr, read_cdr_excerpt, read_tariff_terms
from intercarga.billing.check import Mismatch, check_totals
from intercarga.billing.documents import (
    CdrExcerpt,
    OcpiVersion,
    detect_version,
    load_json,
    price_json,
    totals_json,
    volume_text,
)
from intercarga.billing.explain import Language, explain_tariff, local_time, why
from intercarga.billing.result import CdrPricing, Line
from intercarga.cli._common import out, run
from intercarga.errors import InvalidInputError

__all__ = ["app"]

EXIT_MISMATCH = 1


_LANGUAGES: dict[str, Language] = {"es": "es", "pt": "pt", "en": "en"}

app = typer.Typer(
    help="Price CDRs with OCPI 2.2.1 / 2.3.0 tariffs and explain tariffs in plain words.",
    no_args_is_help=True,
)


def _read(path: Path, what: str) -> Any:
    try:
        text = path.read_bytes()
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror or error}", what) from None
    try:
        return load_json(text, what)
    except InvalidInputError as error:
        raise InvalidInputError(f"{path}: {error.reason}", what) from None


def _in(path: Path, what: str, error: InvalidInputError) -> InvalidInputError:
    """The same error, saying which file it is about."""
    return InvalidInputError(f"{error.reason} ({what} {path})", error.field)


def _line_json(line: Line, pricing: CdrPricing) -> dict[str, Any]:
    component = line.component
    return {
        "kind": line.kind,
        "period": line.period,
        "start": local_time(line.start, "UTC").isoformat().replace("+00:00", "Z"),
        "end": local_time(line.end, "UTC").isoformat().replace("+00:00", "Z"),
        "local_start": local_time(line.start, pricing.time_zone).isoformat(),
        "dimension": line.dimension,
        "volume": f"{line.volume.normalize():f}",
        "element": None if component is None else component.element,
        "price_component": None if component is None else component.index,
        "price": None if component is None else f"{component.price:f}",
        "vat": None if component is None or component.vat is None else f"{component.vat:f}",
        "step_size": None if component is None else component.step_size,
        "cost": f"{line.cost.normalize():f}",
        "why": why(line, pricing),
    }


def _report_json(
    pricing: CdrPricing,
    version: OcpiVersion,
    cdr: CdrExcerpt,
    checked: tuple[list[Mismatch], list[str]] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cdr_id": cdr.id,
        "tariff_id": pricing.tariff.id,
        "version": version,
        "time_zone": pricing.time_zone,
        "totals": totals_json(pricing, version),
        "limit": pricing.limit,
        "cost_before_limits": price_json(pricing.exact.cost_before_limits, version),
        "breakdown": [_line_json(line, pricing) for line in pricing.lines],
        "warnings": list(pricing.warnings),
    }
    if checked is not None:
        mismatches, notes = checked
        body["check"] = {
            "passed": not mismatches,
            "mismatches": [
                {"field": m.field, "cdr": f"{m.stated}", "engine": f"{m.computed}", "note": m.note}
                for m in mismatches
            ],
            "notes": notes,
        }
    return body


def _print_report(pricing: CdrPricing, version: OcpiVersion, cdr: CdrExcerpt) -> None:
    code = pricing.currency.code
    out.print(
        f"CDR {cdr.id or '(no id)'} priced with tariff {pricing.tariff.id or '(no id)'}"
        f" in {code}; restrictions read in {pricing.time_zone}"
    )
    out.print("[bold]Breakdown[/] (local times in the restrictions' zone)")
    units = {"ENERGY": "kWh", "FLAT": "×"}
    for line in pricing.lines:
        component = line.component
        period = "session" if line.period is None else f"period {line.period}"
        unit = units.get(line.dimension, "h")
        shown = f"{line.volume.normalize():f} {unit}"
        if line.kind == "flat":
            amount = "" if component is None else f"{component.price.normalize():f}"
        elif component is None:
            amount = "free"
        else:
            amount = f"× {component.price.normalize():f} = {line.cost.normalize():f}"
        label = line.dimension + (" step_size" if line.kind == "step_size" else "")
        out.print(
            f"  {period:<9} {local_time(line.start, pricing.time_zone):%Y-%m-%d %H:%M}"
            f"  {label:<16} {shown:>14} {amount}",
            soft_wrap=True,
        )
        out.print(f"      {why(line, pricing)}", soft_wrap=True, highlight=False)
    totals = Table(title=f"Totals ({code}, settled)", title_justify="left")
    totals.add_column("total")
    totals.add_column("before taxes", justify="right")
    totals.add_column("after taxes", justify="right")
    settled = pricing.settled()
    for name, price in settled.costs().items():
        totals.add_row(name, f"{price.before_taxes:f}", f"{price.after_taxes:f}")
    for name, volume in settled.volumes().items():
        totals.add_row(name, "unknown" if volume is None else volume_text(volume), "")
    out.print(totals)
    if pricing.limit is not None:
        before = pricing.exact.cost_before_limits
        out.print(
            f"{pricing.limit} applied: {before.before_taxes.normalize():f} /"
            f" {before.after_taxes.normalize():f} before the limit"
        )
    for warning in pricing.warnings:
        out.print(f"[yellow]warning:[/] {warning}")


@app.command("price")
@run
def price(
    tariff_file: Annotated[Path, typer.Argument(help="OCPI Tariff JSON (2.2.1 or 2.3.0).")],
    cdr_file: Annotated[Path, typer.Argument(help="OCPI CDR JSON, or an excerpt of one.")],
    time_zone: Annotated[
        str | None,
        typer.Option(
            "--time-zone", help="The Location's IANA zone for restrictions. Default: UTC."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Compare with the CDR's totals; exit 1 on mismatch.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Price the CDR's charging periods with the tariff: totals and a line-by-line breakdown."""
    tariff_data = _read(tariff_file, "TARIFF")
    cdr_data = _read(cdr_file, "CDR")
    try:
        tariff = compile_tariff(read_tariff_terms(tariff_data))
    except InvalidInputError as error:
        raise _in(tariff_file, "tariff", error) from None
    try:
        cdr = read_cdr_excerpt(cdr_data)
    except InvalidInputError as error:
        raise _in(cdr_file, "CDR", error) from None
    version = detect_version(cdr_data) if isinstance(cdr_data, dict) else "2.2.1"
    pricing = price_cdr(tariff, cdr, time_zone=time_zone or "UTC")
    checked = None
    if check:
        if cdr.total_cost is None:
            raise InvalidInputError(
                "required for --check: the CDR states no total_cost", "total_cost"
            )
        checked = check_totals(pricing, cdr, version)
    if as_json:
        out.print_json(json.dumps(_report_json(pricing, version, cdr, checked)))
    else:
        if time_zone is None and tariff.local:
            out.print(
                "[yellow]note:[/] this tariff has time or date restrictions; they were read in"
                " UTC. Pass --time-zone with the Location's zone (e.g. America/Santiago)."
            )
        _print_report(pricing, version, cdr)
        if checked is not None:
            mismatches, notes = checked
            for note in notes:
                out.print(f"note: {note}")
            for mismatch in mismatches:
                out.print(f"[red]mismatch[/] {mismatch}")
            if not mismatches:
                out.print("[green]check passed:[/] every total the CDR states is reproduced")
    if checked is not None and checked[0]:
        raise typer.Exit(EXIT_MISMATCH)


@app.command("explain")
@run
def explain(
    tariff_file: Annotated[Path, typer.Argument(help="OCPI Tariff JSON (2.2.1 or 2.3.0).")],
    language: Annotated[str, typer.Option("--language", "-l", help="es, pt or en.")] = "en",
) -> None:
    """Say what the tariff charges and when, in plain words."""
    if language not in _LANGUAGES:
        raise InvalidInputError(f"{language!r}; expected es, pt or en", "--language")
    data = _read(tariff_file, "TARIFF")
    try:
        terms = read_tariff_terms(data)
    except InvalidInputError as error:
        raise _in(tariff_file, "tariff", error) from None
    for line in explain_tariff(terms, _LANGUAGES[language]):
        out.print(line, soft_wrap=True)
