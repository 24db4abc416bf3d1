"""``intercarga ids``: say what an id is and whether it is valid.

Exit 0 when valid, 1 when not (printing which part is wrong), 2 on a usage error. The checks
themselves live in :mod:`intercarga.ids`; this module only prints.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from intercarga.cli._common import out, run
from intercarga.errors import InvalidInputError
from intercarga.ids import IdCheck, IdKind, identify, iso_check_character

__all__ = ["app"]

EXIT_INVALID = 1

app = typer.Typer(help="EVSE ids, contract ids (EMAIDs) and OCPI party ids.", no_args_is_help=True)


class KindChoice(StrEnum):
    evse = "evse"
    contract = "contract"
    party = "party"


_KINDS = {
    KindChoice.evse: IdKind.EVSE_ID,
    KindChoice.contract: IdKind.CONTRACT_ID,
    KindChoice.party: IdKind.PARTY_ID,
}


@app.command("check")
def check(
    value: Annotated[str, typer.Argument(help="The id, e.g. CL*ICG*E1 or NL-TNM-000122045-U.")],
    kind: Annotated[
        KindChoice | None, typer.Option("--kind", "-k", help="Check as this kind only.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say what VALUE is (EVSE id, contract id, party id) and whether it is valid."""
    result = _identify(value, kind)
    if as_json:
        out.print_json(result.model_dump_json())
    elif result.valid:
        out.print(f"[green]valid[/] {result.kind.value} ({result.format}): {result.normalized}")
        for part, text in result.parts.items():
            out.print(f"  {part}: {text}")
        for other in result.also_valid_as:
            out.print(f"  also valid as a {other.value}")
    else:
        out.print(f"[red]invalid[/] {result.kind.value}: {result.error}")
    if not result.valid:
        raise typer.Exit(EXIT_INVALID)


@run
def _identify(value: str, kind: KindChoice | None) -> IdCheck:
    if not value.strip():
        raise InvalidInputError("give a non-empty id", field="VALUE")
    return identify(value, _KINDS[kind] if kind else None)


@app.command("check-char")
@run
def check_char(
    body: Annotated[str, typer.Argument(help="The first 14 characters of an EMAID.")],
) -> None:
    """Compute the ISO 15118 check character of an EMAID's first 14 characters."""
    compact = body.replace("-", "").strip()
    out.print(f"{compact.upper()}{iso_check_character(compact)}")
