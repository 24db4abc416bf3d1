"""Schema validation: every OCA schema compiles, codes follow OCPP-J, lenience is narrow."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import (
    CSMS_TO_STATION,
    STATION_TO_CSMS,
    Role,
    known_actions,
    receivable_actions,
    sendable_actions,
)
from intercarga.ocpp.errors import CallError, ErrorCode, parse_code, wire_code
from intercarga.ocpp.schemas import Direction, Validator, load_schema, preload

FOLDERS = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}


@pytest.mark.parametrize("version", list(OcppVersion))
def test_action_catalogue_matches_the_shipped_schemas(version: OcppVersion) -> None:
    folder = resources.files("ocpp").joinpath(FOLDERS[version], "schemas")
    shipped = set()
    for entry in folder.iterdir():
        name = entry.name.removesuffix(".json")
        for suffix in ("Request", "Response"):
            name = name.removesuffix(suffix)
        shipped.add(name)
    assert known_actions(version) == shipped
    for action in known_actions(version):
        assert load_schema(version, action, Direction.REQUEST) is not None
    assert receivable_actions(version, Role.CSMS) == STATION_TO_CSMS[version]
    assert sendable_actions(version, Role.STATION) == STATION_TO_CSMS[version]
    assert sendable_actions(version, Role.CSMS) == CSMS_TO_STATION[version]


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_schema_and_its_relaxed_copy_compiles(version: OcppVersion) -> None:
    compiled = preload(version, lenient=True)
    # Two checks (strict and relaxed) per request and per response; SEND has no response.
    responses = len(known_actions(version)) - (1 if version is OcppVersion.V21 else 0)
    assert compiled == 2 * (len(known_actions(version)) + responses)


def test_unknown_action_is_not_implemented() -> None:
    with pytest.raises(CallError) as caught:
        Validator(OcppVersion.V16).request("TransactionEvent", {})
    assert caught.value.code is ErrorCode.NOT_IMPLEMENTED
    assert not Validator(OcppVersion.V16).knows("TransactionEvent")
    assert load_schema(OcppVersion.V16, "Nope", Direction.REQUEST) is None


def test_validation_never_writes_schema_defaults_into_the_payload() -> None:
    payload: dict[str, Any] = {
        "evseId": 1,
        "meterValue": [
            {"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": 1.5}]},
        ],
    }
    Validator(OcppVersion.V201).request("MeterValues", payload)
    assert payload["meterValue"][0]["sampledValue"][0] == {"value": 1.5}


def test_one_decimal_multiples_are_exact() -> None:
    # 1.6 limits carry multipleOf 0.1; 21.4 / 0.1 is not an integer in binary floating point.
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "startSchedule": "2024-01-01T00:00:00Z",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
            },
        },
    }
    assert Validator(OcppVersion.V16).request("SetChargingProfile", profile) == ()
    profile["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 4.11  # type: ignore[index]
    with pytest.raises(CallError) as caught:
        Validator(OcppVersion.V16).request("SetChargingProfile", profile)
    assert caught.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_strict_overrides_lenience() -> None:
    lenient = Validator(OcppVersion.V201, lenient=True)
    payload = {"idToken": {"idToken": "T" * 37, "type": "ISO14443"}}
    assert lenient.request("Authorize", payload)
    with pytest.raises(CallError):
        lenient.request("Authorize", payload, strict=True)


def test_lenience_still_reports_the_serious_violation_behind_a_harmless_one() -> None:
    lenient = Validator(OcppVersion.V201, lenient=True)
    payload = {
        "idToken": {"idToken": "T" * 37, "type": "ISO14443"},
        "extra": {},
        "iso15118CertificateHashData": "x",
    }
    with pytest.raises(CallError) as caught:
        lenient.request("Authorize", payload)
    assert caught.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert caught.value.details["field"] == "iso15118CertificateHashData"


def test_wire_codes_per_version() -> None:
    assert wire_code(ErrorCode.FORMAT_VIOLATION, OcppVersion.V16) == "FormationViolation"
    assert wire_code(ErrorCode.FORMAT_VIOLATION, OcppVersion.V201) == "FormatViolation"
    assert wire_code(ErrorCode.RPC_FRAMEWORK_ERROR, OcppVersion.V16) == "FormationViolation"
    assert wire_code(ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED, OcppVersion.V16) == "GenericError"
    assert (
        wire_code(ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, OcppVersion.V16)
        == "OccurenceConstraintViolation"
    )
    for code in ErrorCode:
        assert parse_code(wire_code(code, OcppVersion.V21)) is code
    assert parse_code(7) is None and parse_code("Nope") is None


@pytest.mark.parametrize(
    "timestamp",
    ["2024-03-01T12:00:00", "2024-03-01 12:00:00", "2024-03-01T12:00"],
)
def test_lenient_accepts_sloppy_date_times_with_a_warning(timestamp: str) -> None:
    payload = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": timestamp,
    }
    with pytest.raises(CallError) as caught:
        Validator(OcppVersion.V16).request("StatusNotification", payload)
    assert caught.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    [warning] = Validator(OcppVersion.V16, lenient=True).request("StatusNotification", payload)
    assert warning == "StatusNotification: timestamp must be date-time"


def test_lenient_still_refuses_what_is_not_a_date_time() -> None:
    payload = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": "yesterday",
    }
    with pytest.raises(CallError) as caught:
        Validator(OcppVersion.V16, lenient=True).request("StatusNotification", payload)
    assert caught.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert caught.value.details == {
        "action": "StatusNotification",
        "rule": "format",
        "field": "timestamp",
    }
