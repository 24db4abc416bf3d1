"""The adapter of each OCPP version (and, re-exported, the contract they keep).

:func:`adapter_for` picks the stateless adapter of a version (:mod:`.v16`, :mod:`.v201`,
:mod:`.v21`); the contract and the conversions the adapters share live in
:mod:`intercarga.ocpp.version_adapter`, which the version modules import, so that no import
cycle runs through here. This module must never do I/O or keep state.
"""

from __future__ import annotations

from functools import cache

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.v16 import V16Adapter
from intercarga.ocpp.v21 import V21Adapter
from intercarga.ocpp.v201 import V201Adapter
from intercarga.ocpp.version_adapter import (
    ENERGY_REGISTER,
    VersionAdapter,
    format_time,
    hash_data_payload,
    json_number,
    meter_value,
    parse_decimal,
    parse_time,
    read_hash_data,
    signed_meter_value,
    skip_sample,
    unsupported,
)

__all__ = [
    "ENERGY_REGISTER",
    "VersionAdapter",
    "adapter_for",
    "format_time",
    "hash_data_payload",
    "json_number",
    "meter_value",
    "parse_decimal",
    "parse_time",
    "read_hash_data",
    "signed_meter_value",
    "skip_sample",
    "unsupported",
]


@cache
def adapter_for(version: OcppVersion) -> VersionAdapter:
    """The adapter of ``version`` (adapters are stateless; one instance serves every station)."""
    adapters: dict[OcppVersion, type[VersionAdapter]] = {
        OcppVersion.V16: V16Adapter,
        OcppVersion.V201: V201Adapter,
        OcppVersion.V21: V21Adapter,
    }
    return adapters[version]()
