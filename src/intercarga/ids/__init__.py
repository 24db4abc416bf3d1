"""Identifiers of the e-mobility world: EVSE ids, contract ids (EMAIDs) and OCPI party ids.

Parse, normalize, validate and compute check characters. Every place where such an id enters the
system (admin API, OCPI, OCPP) calls these; they never look anything up and never do I/O.
"""

from intercarga.ids.contract_id import (
    ContractId,
    ContractIdFormat,
    din_check_digit,
    is_valid_contract_id,
    iso_check_character,
    looks_like_contract_id,
    normalize_contract_id,
    parse_contract_id,
)
from intercarga.ids.evse_id import (
    EvseId,
    EvseIdFormat,
    is_valid_evse_id,
    normalize_evse_id,
    parse_evse_id,
)
from intercarga.ids.fields import ContractIdField, EvseIdField, PartyIdField
from intercarga.ids.identify import IdCheck, IdKind, identify
from intercarga.ids.party_id import PartyId, is_valid_party_id, normalize_party_id, parse_party_id

__all__ = [
    "ContractId",
    "ContractIdField",
    "ContractIdFormat",
    "EvseId",
    "EvseIdField",
    "EvseIdFormat",
    "IdCheck",
    "IdKind",
    "PartyId",
    "PartyIdField",
    "din_check_digit",
    "identify",
    "is_valid_contract_id",
    "is_valid_evse_id",
    "is_valid_party_id",
    "iso_check_character",
    "looks_like_contract_id",
    "normalize_contract_id",
    "normalize_evse_id",
    "normalize_party_id",
    "parse_contract_id",
    "parse_evse_id",
    "parse_party_id",
]
