"""Example station payloads per OCPP version, shaped like what real chargers send.

Written for these tests (no third-party material): field values follow the OCPP 1.6 edition 2,
2.0.1 and 2.1 message definitions and typical AC charger behaviour (three-phase 32 A, meter in
Wh, an OCMF-signed register reading). A test checks that every example passes the OCA schema of
its version, so they stay real.
"""

from __future__ import annotations

from typing import Any

__all__ = ["V16", "V21", "V201", "action_of"]

OCMF = (
    'OCMF|{"FV":"1.0","GI":"ABL SBC-301","GS":"808829900001","GV":"1.4p3","PG":"T12345",'
    '"RD":[{"TM":"2024-03-01T12:00:00,000+0000 S","TX":"B","RV":15.423,"RI":"1-b:1.8.0",'
    '"RU":"kWh","ST":"G"}]}|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045022100"}'
)

V16: dict[str, dict[str, Any]] = {
    "BootNotification": {
        "chargePointVendor": "ABB",
        "chargePointModel": "Terra AC W22-T-R-0",
        "chargePointSerialNumber": "TACW2224321G0123",
        "chargeBoxSerialNumber": "TACW2224321G0123",
        "firmwareVersion": "1.6.8",
        "iccid": "8956000000000000001",
        "imsi": "730010000000001",
        "meterType": "ABB B23 312-100",
        "meterSerialNumber": "7098712",
    },
    "Heartbeat": {},
    "StatusNotification": {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Charging",
        "timestamp": "2024-03-01T12:00:05Z",
        "info": "",
        "vendorId": "ABB",
    },
    "StatusNotificationFaulted": {
        "connectorId": 0,
        "errorCode": "GroundFailure",
        "status": "Faulted",
        "vendorErrorCode": "0x2A",
    },
    "Authorize": {"idTag": "04A2B3C4D5E680"},
    "StartTransaction": {
        "connectorId": 1,
        "idTag": "04A2B3C4D5E680",
        "meterStart": 15423,
        "reservationId": 7,
        "timestamp": "2024-03-01T12:00:00.000Z",
    },
    "MeterValues": {
        "connectorId": 1,
        "transactionId": 1042,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:15:00Z",
                "sampledValue": [
                    {
                        "value": "17.263",
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "location": "Outlet",
                        "unit": "kWh",
                    },
                    {"value": "7.36", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "31.9", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                    {"value": "229.8", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
                    {"value": "54", "measurand": "SoC", "location": "EV", "unit": "Percent"},
                    {"value": "31.5", "measurand": "Temperature", "unit": "Celcius"},
                    {"value": OCMF, "format": "SignedData", "context": "Sample.Periodic"},
                ],
            }
        ],
    },
    "MeterValuesIdle": {
        "connectorId": 2,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:00:00Z",
                "sampledValue": [{"value": "88001", "context": "Sample.Clock"}],
            }
        ],
    },
    "StopTransaction": {
        "idTag": "04A2B3C4D5E680",
        "meterStop": 19876,
        "timestamp": "2024-03-01T12:45:00Z",
        "transactionId": 1042,
        "reason": "EVDisconnected",
        "transactionData": [
            {
                "timestamp": "2024-03-01T12:45:00Z",
                "sampledValue": [
                    {
                        "value": "19876",
                        "context": "Transaction.End",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    },
    "StopTransactionUnknown": {
        "meterStop": 500,
        "timestamp": "2024-03-01T13:00:00Z",
        "transactionId": 999999,
    },
    "FirmwareStatusNotification": {"status": "Installed"},
    "DiagnosticsStatusNotification": {"status": "UploadFailed"},
    "DataTransfer": {"vendorId": "com.abb", "messageId": "ChargerConfig", "data": '{"mode":2}'},
    "SecurityEventNotification": {
        "type": "InvalidCentralSystemCertificate",
        "timestamp": "2024-03-01T11:59:00Z",
        "techInfo": "certificate expired",
    },
    "SignCertificate": {
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"
    },
    "SignedFirmwareStatusNotification": {"status": "InstallRebooting", "requestId": 12},
    "LogStatusNotification": {"status": "Uploading", "requestId": 5},
}

_SAMPLES_201: list[dict[str, Any]] = [
    {
        "value": 17.263,
        "context": "Sample.Periodic",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unitOfMeasure": {"unit": "kWh"},
        "signedMeterValue": {
            "signedMeterData": OCMF,
            "signingMethod": "ECDSA-secp256r1-SHA256",
            "encodingMethod": "OCMF",
            "publicKey": "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
        },
    },
    {"value": 7360, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
    {"value": 7.36, "measurand": "Power.Offered", "unitOfMeasure": {"unit": "W", "multiplier": 3}},
    {"value": 31.9, "measurand": "Current.Import", "phase": "L1", "unitOfMeasure": {"unit": "A"}},
    {"value": 54, "measurand": "SoC", "location": "EV", "unitOfMeasure": {"unit": "Percent"}},
]

V201: dict[str, dict[str, Any]] = {
    "BootNotification": {
        "reason": "PowerUp",
        "chargingStation": {
            "model": "Wallbox Commander 2",
            "vendorName": "Wall Box Chargers",
            "serialNumber": "CMX2-0012345",
            "firmwareVersion": "6.4.12",
            "modem": {"iccid": "8957000000000000002", "imsi": "732101000000002"},
        },
    },
    "Heartbeat": {},
    "StatusNotification": {
        "timestamp": "2024-03-01T12:00:05Z",
        "connectorStatus": "Occupied",
        "evseId": 1,
        "connectorId": 1,
    },
    "Authorize": {"idToken": {"idToken": "04A2B3C4D5E680", "type": "ISO14443"}},
    "TransactionEventStarted": {
        "eventType": "Started",
        "timestamp": "2024-03-01T12:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {
            "transactionId": "f3c1d2e4-7a1b-4c2d-9e8f-000000001042",
            "chargingState": "EVConnected",
            "remoteStartId": 55,
        },
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "04A2B3C4D5E680", "type": "ISO14443"},
        "reservationId": 7,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:00:00Z",
                "sampledValue": [
                    {
                        "value": 15423,
                        "context": "Transaction.Begin",
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    },
    "TransactionEventUpdated": {
        "eventType": "Updated",
        "timestamp": "2024-03-01T12:15:00Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 1,
        "offline": True,
        "transactionInfo": {
            "transactionId": "f3c1d2e4-7a1b-4c2d-9e8f-000000001042",
            "chargingState": "Charging",
        },
        "meterValue": [{"timestamp": "2024-03-01T12:15:00Z", "sampledValue": _SAMPLES_201}],
    },
    "TransactionEventEnded": {
        "eventType": "Ended",
        "timestamp": "2024-03-01T12:45:00Z",
        "triggerReason": "EVCommunicationLost",
        "seqNo": 2,
        "transactionInfo": {
            "transactionId": "f3c1d2e4-7a1b-4c2d-9e8f-000000001042",
            "chargingState": "Idle",
            "stoppedReason": "EVDisconnected",
        },
        "idToken": {"idToken": "04A2B3C4D5E680", "type": "ISO14443"},
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:30:00Z",
                "sampledValue": [
                    {"value": 18.9, "context": "Sample.Periodic", "unitOfMeasure": {"unit": "kWh"}}
                ],
            },
            {
                "timestamp": "2024-03-01T12:45:00Z",
                "sampledValue": [
                    {"value": 19876, "context": "Transaction.End", "unitOfMeasure": {"unit": "Wh"}}
                ],
            },
        ],
    },
    "MeterValues": {
        "evseId": 2,
        "meterValue": [
            {
                "timestamp": "2024-03-01T12:00:00Z",
                "sampledValue": [{"value": 88001, "context": "Sample.Clock"}],
            }
        ],
    },
    "FirmwareStatusNotification": {"status": "Downloading", "requestId": 12},
    "LogStatusNotification": {"status": "Uploaded", "requestId": 5},
    "SecurityEventNotification": {
        "type": "FirmwareUpdated",
        "timestamp": "2024-03-01T11:59:00Z",
        "techInfo": "6.4.12",
    },
    "DataTransfer": {"vendorId": "com.wallbox", "messageId": "Config", "data": {"mode": 2}},
    "SignCertificate": {
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----",
        "certificateType": "ChargingStationCertificate",
    },
    "NotifyReport": {
        "requestId": 3,
        "generatedAt": "2024-03-01T12:00:00Z",
        "seqNo": 0,
        "tbc": True,
        "reportData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [
                    {"type": "Actual", "value": "300", "mutability": "ReadWrite"}
                ],
                "variableCharacteristics": {
                    "dataType": "integer",
                    "unit": "s",
                    "supportsMonitoring": False,
                },
            },
            {
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "ConnectorType"},
                "variableAttribute": [{"value": "cType2", "mutability": "ReadOnly"}],
            },
        ],
    },
    "ReservationStatusUpdate": {"reservationId": 7, "reservationUpdateStatus": "Expired"},
    "NotifyEvent": {
        "generatedAt": "2024-03-01T12:00:00Z",
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": "2024-03-01T12:00:00Z",
                "trigger": "Alerting",
                "actualValue": "true",
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Problem"},
                "eventNotificationType": "HardWiredNotification",
            }
        ],
    },
}

# OCPP 2.1 payloads of the same messages are the 2.0.1 ones for everything the examples use; a
# free-form 2.1 IdTokenType and a 2.1-only message are added.
V21: dict[str, dict[str, Any]] = {
    **V201,
    "Authorize": {"idToken": {"idToken": "DE*ICE*C12345678*9", "type": "eMAID"}},
    "VatNumberValidation": {"vatNumber": "CL76543210K", "evseId": 1},
}


def action_of(name: str) -> str:
    """The OCPP action of an example's name ("TransactionEventStarted" → "TransactionEvent")."""
    for suffix in ("Faulted", "Idle", "Unknown", "Started", "Updated", "Ended"):
        if name.endswith(suffix) and name != suffix:
            return name.removesuffix(suffix)
    return name
