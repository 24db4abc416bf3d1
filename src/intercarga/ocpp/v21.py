"""OCPP 2.1 ↔ version-free events and commands: OCPP 2.0.1's adapter plus what 2.1 added.

2.1 keeps every 2.0.1 message with compatible payloads for everything the version-free model
carries (2.1 widens some strings, turns IdTokenType into a free string and adds optional
fields), so :class:`V21Adapter` is :class:`~intercarga.ocpp.v201.V201Adapter` with 2.1's
version and the neutral answers of the station messages 2.1 introduced. This module must never do
I/O or keep state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.errors import CallError, ErrorCode
from intercarga.ocpp.v201 import V201Adapter

__all__ = ["V21Adapter"]

# 2.1 station messages whose answer carries a required status: acknowledge, grant nothing.
_NEUTRAL_21: Final[Mapping[str, Mapping[str, Any]]] = {
    "OpenPeriodicEventStream": {"status": "Rejected"},
    "PullDynamicScheduleUpdate": {"status": "Rejected"},
}
# Answers that would have to assert facts about certificates: the station gets NotSupported.
_NOT_SUPPORTED_21: Final = frozenset({"GetCertificateChainStatus"})


class V21Adapter(V201Adapter):
    """OCPP 2.1."""

    version: ClassVar[OcppVersion] = OcppVersion.V21

    def neutral_response(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if action in _NOT_SUPPORTED_21:
            raise CallError(ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this CSMS")
        if action == "VatNumberValidation":
            answer: dict[str, Any] = {"vatNumber": payload["vatNumber"], "status": "Rejected"}
            if "evseId" in payload:
                answer["evseId"] = payload["evseId"]
            return answer
        neutral = _NEUTRAL_21.get(action)
        if neutral is not None:
            return dict(neutral)
        return super().neutral_response(action, payload)
