"""A simulated station's configuration: OCPP 1.6 keys and their OCPP 2.0.1 / 2.1 variables.

The station keeps one set of settings named by their OCPP 1.6 configuration keys (section 9.1),
the names most operators know. OCPP 2.0.1 and 2.1 address the same settings as component +
variable (part 2, appendix "Referenced Components and Variables"); :data:`VARIABLES_201` maps
those to the keys. Values are strings on the wire in every version and are checked here by kind,
so a CSMS that sets HeartbeatInterval to "soon" is told Rejected.

Pure data and checks: this module must never send messages or schedule anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["VARIABLES_201", "Kind", "SetOutcome", "Setting", "Settings", "default_settings"]


class Kind(StrEnum):
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"


class SetOutcome(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"  # read-only, or a value of the wrong kind
    UNKNOWN = "Unknown"


@dataclass(slots=True)
class Setting:
    value: str
    kind: Kind = Kind.TEXT
    readonly: bool = False


def default_settings(
    *, connectors: int, heartbeat_s: int, meter_interval_s: int
) -> dict[str, Setting]:
    return {
        "AuthorizeRemoteTxRequests": Setting("false", Kind.BOOLEAN),
        "ClockAlignedDataInterval": Setting("0", Kind.INTEGER),
        "ConnectionTimeOut": Setting("120", Kind.INTEGER),
        "HeartbeatInterval": Setting(str(heartbeat_s), Kind.INTEGER),
        "LocalAuthorizeOffline": Setting("true", Kind.BOOLEAN),
        "MeterValueSampleInterval": Setting(str(meter_interval_s), Kind.INTEGER),
        "MeterValuesSampledData": Setting(
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC"
        ),
        "NumberOfConnectors": Setting(str(connectors), Kind.INTEGER, readonly=True),
        "StopTransactionOnEVSideDisconnect": Setting("true", Kind.BOOLEAN),
        "SupportedFeatureProfiles": Setting("Core,RemoteTrigger", readonly=True),
    }


VARIABLES_201: Final[Mapping[tuple[str, str], str]] = {
    ("AuthCtrlr", "AuthorizeRemoteStart"): "AuthorizeRemoteTxRequests",
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): "LocalAuthorizeOffline",
    ("AlignedDataCtrlr", "Interval"): "ClockAlignedDataInterval",
    ("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval",
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): "MeterValuesSampledData",
    ("TxCtrlr", "EVConnectionTimeOut"): "ConnectionTimeOut",
    ("TxCtrlr", "StopTxOnEVSideDisconnect"): "StopTransactionOnEVSideDisconnect",
}
"""(component, variable) of OCPP 2.0.1 / 2.1 → the OCPP 1.6 key of the same setting."""

_COMPONENTS_201: Final = frozenset(component for component, _ in VARIABLES_201)


class Settings:
    """The station's settings by 1.6 key; see the module docstring."""

    def __init__(self, settings: Mapping[str, Setting]) -> None:
        self._settings = dict(settings)

    def __iter__(self) -> Iterator[tuple[str, Setting]]:
        return iter(sorted(self._settings.items()))

    def get(self, key: str) -> Setting | None:
        return self._settings.get(key)

    def integer(self, key: str) -> int:
        setting = self._settings[key]
        return int(setting.value)

    def flag(self, key: str) -> bool:
        return self._settings[key].value.lower() == "true"

    def set(self, key: str, value: str) -> SetOutcome:
        setting = self._settings.get(key)
        if setting is None:
            return SetOutcome.UNKNOWN
        if setting.readonly or not _fits(setting.kind, value):
            return SetOutcome.REJECTED
        setting.value = value.lower() if setting.kind is Kind.BOOLEAN else value.strip()
        return SetOutcome.ACCEPTED

    def put(self, key: str, value: str) -> None:
        """Set ``key`` from the station's own side (read-only or not)."""
        self._settings[key].value = value

    @staticmethod
    def key_201(component: str, variable: str) -> str | None:
        """The 1.6 key behind a 2.0.1 component + variable, None when we do not have it."""
        return VARIABLES_201.get((component, variable))

    @staticmethod
    def knows_component_201(component: str) -> bool:
        return component in _COMPONENTS_201


def _fits(kind: Kind, value: str) -> bool:
    if kind is Kind.INTEGER:
        try:
            return int(value) >= 0
        except ValueError:
            return False
    if kind is Kind.BOOLEAN:
        return value.lower() in ("true", "false")
    return True
