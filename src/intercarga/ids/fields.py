"""Pydantic field types that validate and normalize ids where they enter the system.

Use them on API bodies and protocol models (admin API, OCPI, OCPP adapters) so a malformed id is
refused at the edge with the name of the wrong part, and a valid one is stored in normal form:
``evse_id: EvseIdField``. Pure validation; no look-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from intercarga.errors import InvalidInputError
from intercarga.ids.contract_id import normalize_contract_id
from intercarga.ids.evse_id import normalize_evse_id
from intercarga.ids.party_id import normalize_party_id

__all__ = ["ContractIdField", "EvseIdField", "PartyIdField"]


def _as_value_error(normalize: Callable[[str], str]) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            return normalize(value)
        except InvalidInputError as error:
            # pydantic reports ValueError as a validation error at the field's location.
            raise ValueError(str(error)) from None

    return AfterValidator(validate)


EvseIdField = Annotated[str, _as_value_error(normalize_evse_id)]
ContractIdField = Annotated[str, _as_value_error(normalize_contract_id)]
PartyIdField = Annotated[str, _as_value_error(normalize_party_id)]
