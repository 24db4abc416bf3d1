"""Say what an id is (EVSE id, contract id, party id) and whether it is valid.

This is what ``intercarga ids check`` prints and what an API can return for a pasted id. Every
kind is tried; when none fits, the kind the text looks most like explains which part is wrong.
Pure: no look-ups, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel

from intercarga.errors import InvalidInputError
from intercarga.ids.contract_id import parse_contract_id
from intercarga.ids.evse_id import parse_evse_id
from intercarga.ids.party_id import parse_party_id

__all__ = ["IdCheck", "IdKind", "identify"]


class IdKind(StrEnum):
    EVSE_ID = "EVSE id"
    CONTRACT_ID = "contract id"
    PARTY_ID = "party id"


class IdCheck(BaseModel):
    """The answer for one value: its kind, validity, normal form and parts, or what is wrong."""

    value: str
    kind: IdKind
    valid: bool
    format: str | None = None
    normalized: str | None = None
    parts: dict[str, str] = {}
    also_valid_as: list[IdKind] = []
    wrong_part: str | None = None
    error: str | None = None


def identify(value: str, kind: IdKind | None = None) -> IdCheck:
    """Check ``value`` as ``kind``, or as whichever kind it is when ``kind`` is None."""
    kinds = [kind] if kind is not None else _likely_order(value)
    checks = [_check(value, k) for k in kinds]
    valid = [c for c in checks if c.valid]
    if valid:
        best = valid[0]
        return best.model_copy(update={"also_valid_as": [c.kind for c in valid[1:]]})
    return checks[0]


def _check(value: str, kind: IdKind) -> IdCheck:
    try:
        return _PARSERS[kind](value)
    except InvalidInputError as error:
        return IdCheck(
            value=value, kind=kind, valid=False, wrong_part=error.field, error=str(error)
        )


def _evse(value: str) -> IdCheck:
    evse = parse_evse_id(value)
    return IdCheck(
        value=value,
        kind=IdKind.EVSE_ID,
        valid=True,
        format=evse.format.value,
        normalized=str(evse),
        parts={
            "country code": evse.country_code,
            "operator id": evse.operator_id,
            "power outlet id": evse.power_outlet_id,
        },
    )


def _contract(value: str) -> IdCheck:
    contract = parse_contract_id(value)
    parts = {
        "country code": contract.country_code,
        "provider id": contract.provider_id,
        "instance": contract.instance,
        "check character": contract.check_character,
    }
    din = contract.din
    if din is not None:
        parts["DIN SPEC 91286 form"] = din
    return IdCheck(
        value=value,
        kind=IdKind.CONTRACT_ID,
        valid=True,
        format=contract.written_as.value + (" (eMI3 instance)" if contract.is_emi3 else ""),
        normalized=str(contract),
        parts=parts,
    )


def _party(value: str) -> IdCheck:
    party = parse_party_id(value)
    return IdCheck(
        value=value,
        kind=IdKind.PARTY_ID,
        valid=True,
        format="OCPI party",
        normalized=str(party),
        parts={"country code": party.country_code, "party id": party.party_id},
    )


_PARSERS: dict[IdKind, Callable[[str], IdCheck]] = {
    IdKind.EVSE_ID: _evse,
    IdKind.CONTRACT_ID: _contract,
    IdKind.PARTY_ID: _party,
}


def _likely_order(value: str) -> list[IdKind]:
    """Kinds ordered by how much ``value`` looks like each; the first explains a failure."""
    text = value.strip().upper()
    compact = "".join(c for c in text if c not in "-* ")
    if len(compact) <= 5 and not text.startswith("+"):
        return [IdKind.PARTY_ID, IdKind.CONTRACT_ID, IdKind.EVSE_ID]
    # eMI3 writes EVSE ids with "*" and contract ids with "-"; a DIN EVSE id starts with "+".
    looks_like_evse = (
        text.startswith("+")
        or text[:1].isdigit()
        or ("*" in text and "-" not in text and compact[5:6] == "E")
        or len(compact) not in (11, 12, 14, 15)
    )
    if looks_like_evse:
        return [IdKind.EVSE_ID, IdKind.CONTRACT_ID, IdKind.PARTY_ID]
    return [IdKind.CONTRACT_ID, IdKind.EVSE_ID, IdKind.PARTY_ID]
