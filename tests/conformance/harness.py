"""The charging station's side of the conformance suites, played over a real WebSocket.

A :class:`Station` is what the OCPP Compliance Testing Tool is in the CSMS test cases: it
connects to the CSMS under test (``system.csms`` on 127.0.0.1), sends what a step says, answers
the CSMS's calls with what the test chose, and records every call the CSMS made so the test can
check the "tool validations". It runs the RPC core in the station role, so every payload it sends
and every call it receives is checked against the OCA schemas; a CSMS call that fails them is
recorded in :attr:`Station.violations` and fails the test.

:class:`Station201` adds the reusable states of OCPP 2.0.1 Part 6 (Booted, Authorized,
EVConnectedPreSession, EnergyTransferStarted, StopAuthorized, EVDisconnected, …) with one
transaction per EVSE and seqNo counted from 0 per transaction; :class:`Station16` the OCPP 1.6
messages. :class:`Csms` is the operator: it triggers CSMS-initiated steps through the admin API
(``POST /api/v1/stations/{id}/commands/{name}`` and ``…/ocpp/{Action}``) and reads what the CSMS
stored. The ids, tokens and values here are ours; nothing reads the specification at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from intercarga.app import System
from intercarga.domain.station import OcppVersion
from intercarga.ocpp.actions import Role
from intercarga.ocpp.errors import ErrorCode
from intercarga.ocpp.rpc import (
    CallCancelled,
    CallErrorReceived,
    CallReceived,
    CallResultReceived,
    CallTimedOut,
    Event,
    Protocol,
    ProtocolViolation,
)
from intercarga.ocpp.schemas import Validator
from intercarga.sim.link import basic_authorization

__all__ = [
    "BLOCKED",
    "EXPIRED",
    "GROUP",
    "INVALID",
    "MASTER",
    "MASTER_GROUP",
    "PASSWORD",
    "STATION_16",
    "STATION_201",
    "VALID",
    "VALID2",
    "CallRefusedError",
    "Csms",
    "Station",
    "Station16",
    "Station201",
    "meter_value",
    "now",
]

PASSWORD = "conformance-password-0123"
STATION_201 = "CL-ICG-0001"  # two EVSEs of one connector each, at SCL-PROVIDENCIA
STATION_16 = "CO-ICG-0001"  # one connector, at BOG-USAQUEN

GROUP = "CONF-GROUP"
MASTER_GROUP = "CONF-MASTERPASS"
VALID = "CONF-VALID-1"
VALID2 = "CONF-VALID-2"  # same group as VALID
INVALID = "CONF-UNKNOWN"  # not known to the CSMS
BLOCKED = "CONF-BLOCKED"
EXPIRED = "CONF-EXPIRED"
MASTER = "CONF-MASTER"  # of the master pass group

TIMEOUT = 10.0

Reply = Mapping[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


_last_moment = [datetime.min.replace(tzinfo=UTC)]


def now() -> str:
    """The time to put in a message: never the same millisecond twice, as a real station's
    readings one after another never share a timestamp."""
    moment = max(datetime.now(UTC), _last_moment[0] + timedelta(milliseconds=1))
    _last_moment[0] = moment
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meter_value(
    wh: float,
    context: str = "Sample.Periodic",
    *,
    signed: Mapping[str, Any] | None = None,
    measurand: str = "Energy.Active.Import.Register",
) -> dict[str, Any]:
    """One 2.x MeterValueType with one energy register reading (and its signed form)."""
    sample: dict[str, Any] = {"value": wh, "context": context, "measurand": measurand}
    if signed is not None:
        sample["signedMeterValue"] = dict(signed)
    return {"timestamp": now(), "sampledValue": [sample]}


class CallRefusedError(Exception):
    """The CSMS answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code


class Station:
    """One charging station of a test: a WebSocket, the RPC core as the station, replies."""

    def __init__(
        self,
        url: str,
        station_id: str,
        version: OcppVersion,
        *,
        password: str | None = PASSWORD,
        tls: ssl.SSLContext | None = None,
        validate: bool = True,
    ) -> None:
        self.url = url
        self.station_id = station_id
        self.version = version
        self.password = password
        self.tls = tls
        self.validate = validate  # False: sends what it is given, valid or not
        self.replies: dict[str, Reply] = dict(self.default_replies())
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self._websocket: ClientConnection | None = None
        self._protocol: Protocol | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def default_replies(self) -> Mapping[str, Reply]:
        return {}

    # -- the connection --------------------------------------------------------------------

    async def connect(self, *, user: str | None = None, password: str | None = None) -> None:
        """Open the WebSocket (HTTP Basic with ``user``/``password`` or the station's own)."""
        secret = password if password is not None else self.password
        headers = {}
        if secret is not None:
            headers["Authorization"] = basic_authorization(user or self.station_id, secret)
        self._websocket = await connect(
            f"{self.url}/{self.station_id}",
            subprotocols=[Subprotocol(self.version.value)],
            additional_headers=headers,
            ssl=self.tls,
            open_timeout=TIMEOUT,
            ping_interval=None,
            proxy=None,
        )
        self._protocol = Protocol(
            self.version,
            role=Role.STATION,
            validator=Validator(self.version) if self.validate else None,
            call_timeout=TIMEOUT,
            station_id=self.station_id,
            now=time.monotonic(),
        )
        self._reader = asyncio.create_task(self._read(self._websocket, self._protocol))

    @property
    def connected(self) -> bool:
        return self._protocol is not None and not self._protocol.closed

    async def close(self) -> None:
        """Close the connection cleanly and wait until it is gone."""
        if self._websocket is not None:
            with contextlib.suppress(Exception):
                await self._websocket.close()
        await self._stopped()

    async def drop(self) -> None:
        """Lose the connection without a closing handshake, as a lost network would."""
        if self._websocket is not None:
            self._websocket.transport.abort()
        await self._stopped()

    async def _stopped(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, TIMEOUT)
        self._websocket = self._protocol = self._reader = None

    async def __aenter__(self) -> Station:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- our calls ---------------------------------------------------------------------------

    async def call(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CSMS's CALLRESULT payload (:class:`CallRefusedError` if not)."""
        assert self._protocol is not None and self._websocket is not None, "not connected"
        unique_id = self._protocol.send_call(action, dict(payload), now=time.monotonic())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        await self._flush()
        try:
            return await asyncio.wait_for(future, TIMEOUT)
        finally:
            self._pending.pop(unique_id, None)

    # -- the CSMS's calls ----------------------------------------------------------------------

    def reply(self, action: str, reply: Reply) -> None:
        """Answer the CSMS's ``action`` calls with ``reply`` (a payload, or a function of the
        request's payload) from now on."""
        self.replies[action] = reply

    def requests(self, action: str) -> list[dict[str, Any]]:
        """The payloads of every ``action`` the CSMS sent us, oldest first."""
        return [payload for name, payload in self.received if name == action]

    async def next_request(self, action: str, after: int = 0) -> dict[str, Any]:
        """Wait until the CSMS has sent more than ``after`` ``action`` calls; the newest."""
        deadline = time.monotonic() + TIMEOUT
        while len(self.requests(action)) <= after:
            assert time.monotonic() < deadline, f"the CSMS sent no {action}"
            await asyncio.sleep(0.01)
        return self.requests(action)[-1]

    def last(self, action: str) -> dict[str, Any]:
        """The payload of the last ``action`` the CSMS sent us."""
        sent = self.requests(action)
        assert sent, f"the CSMS sent no {action}; it sent {[name for name, _ in self.received]}"
        return sent[-1]

    # -- internals -------------------------------------------------------------------------------

    async def _read(self, websocket: ClientConnection, protocol: Protocol) -> None:
        try:
            async for message in websocket:
                if isinstance(message, bytes):
                    self.violations.append("binary frame")
                    continue
                for event in protocol.receive_text(message, now=time.monotonic()):
                    self._on_event(protocol, event)
                await self._flush(protocol, websocket)
        except ConnectionClosed:
            pass
        finally:
            for event in protocol.close():
                self._settle(event)

    def _on_event(self, protocol: Protocol, event: Event) -> None:
        if isinstance(event, CallReceived):
            self.received.append((event.action, event.payload))
            reply = self.replies.get(event.action)
            if reply is None:
                self.violations.append(f"no reply chosen for {event.action}")
                protocol.send_error(event.unique_id, ErrorCode.NOT_SUPPORTED, "not in this test")
                return
            payload = reply(event.payload) if callable(reply) else dict(reply)
            protocol.send_result(event.unique_id, payload)
        elif isinstance(event, ProtocolViolation):
            self.violations.append(f"{event.code}: {event.description}")
        else:
            self._settle(event)

    def _settle(self, event: Event) -> None:
        unique_id = getattr(event, "unique_id", None)
        future = self._pending.get(unique_id) if unique_id is not None else None
        if future is None or future.done():
            return
        if isinstance(event, CallResultReceived):
            future.set_result(event.payload)
        elif isinstance(event, CallErrorReceived):
            future.set_exception(
                CallRefusedError(event.raw_code or event.code.value, event.description)
            )
        elif isinstance(event, CallTimedOut | CallCancelled):
            future.set_exception(ConnectionError(f"{event.action}: no answer"))

    async def _flush(
        self, protocol: Protocol | None = None, websocket: ClientConnection | None = None
    ) -> None:
        protocol = protocol or self._protocol
        websocket = websocket or self._websocket
        if protocol is None or websocket is None:
            return
        for frame in protocol.data_to_send():
            with contextlib.suppress(ConnectionClosed):
                await websocket.send(frame)


# --- OCPP 2.0.1 ---------------------------------------------------------------------------------


def id_token(value: str, kind: str = "ISO14443") -> dict[str, str]:
    return {"idToken": value, "type": kind}


@dataclass
class Transaction:
    """What the station knows of the transaction on one EVSE."""

    id: str
    evse: int
    connector: int = 1
    next_seq_no: int = 0
    started: bool = False
    authorized: bool = False
    ev_connected: bool = False
    register_wh: int = 0


@dataclass
class DeviceModel:
    """The few variables a conformance station holds, by (component, variable)."""

    values: dict[tuple[str, str], str] = field(
        default_factory=lambda: {
            ("OCPPCommCtrlr", "OfflineThreshold"): "60",
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("AuthCtrlr", "AuthorizeRemoteStart"): "false",
            ("SecurityCtrlr", "BasicAuthPassword"): PASSWORD,
            ("OCPPCommCtrlr", "NetworkConfigurationPriority"): "0",
            ("TxCtrlr", "EVConnectionTimeOut"): "60",
        }
    )

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in request["getVariableData"]:
            key = (item["component"]["name"], item["variable"]["name"])
            result = {"component": item["component"], "variable": item["variable"]}
            if key in self.values and key != ("SecurityCtrlr", "BasicAuthPassword"):
                result |= {"attributeStatus": "Accepted", "attributeValue": self.values[key]}
            elif key in self.values:
                result |= {"attributeStatus": "Rejected"}  # write-only
            else:
                result |= {"attributeStatus": "UnknownVariable"}
            results.append(result)
        return {"getVariableResult": results}

    def set(self, request: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in request["setVariableData"]:
            key = (item["component"]["name"], item["variable"]["name"])
            status = "Accepted" if key in self.values else "UnknownVariable"
            if status == "Accepted":
                self.values[key] = item["attributeValue"]
            results.append(
                {
                    "attributeStatus": status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return {"setVariableResult": results}


class Station201(Station):
    """An OCPP 2.0.1 station with EVSEs 1 and 2 (one connector each) and Part 6's reusable states."""

    def __init__(self, url: str, station_id: str = STATION_201, **options: Any) -> None:
        self.device = DeviceModel()
        super().__init__(url, station_id, OcppVersion.V201, **options)
        self.evses = (1, 2)
        self.transactions: dict[int, Transaction] = {}

    def default_replies(self) -> Mapping[str, Reply]:
        accepted = {"status": "Accepted"}
        return {
            "Reset": accepted,
            "ChangeAvailability": accepted,
            "TriggerMessage": accepted,
            "GetVariables": self.device.get,
            "SetVariables": self.device.set,
            "GetBaseReport": accepted,
            "ClearCache": accepted,
            "RequestStartTransaction": accepted,
            "RequestStopTransaction": accepted,
            "UnlockConnector": {"status": "Unlocked"},
            "SetNetworkProfile": accepted,
            "GetTransactionStatus": {"messagesInQueue": False},
            "UpdateFirmware": accepted,
            "GetLog": {"status": "Accepted", "filename": "conformance.log"},
            "CustomerInformation": accepted,
            "InstallCertificate": accepted,
            "GetInstalledCertificateIds": {"status": "NotFound"},
            "DeleteCertificate": accepted,
            "CertificateSigned": accepted,
            "SendLocalList": accepted,
            "GetLocalListVersion": {"versionNumber": 0},
            "DataTransfer": {"status": "UnknownVendorId"},
        }

    # -- single messages -----------------------------------------------------------------------

    async def boot(self, reason: str = "PowerUp") -> dict[str, Any]:
        return await self.call(
            "BootNotification",
            {
                "reason": reason,
                "chargingStation": {"model": "Conformance", "vendorName": "Intercarga Tests"},
            },
        )

    async def status(self, evse: int, status: str, connector: int = 1) -> None:
        """A connector's status: StatusNotification, then NotifyEvent AvailabilityState."""
        await self.call(
            "StatusNotification",
            {
                "timestamp": now(),
                "connectorStatus": status,
                "evseId": evse,
                "connectorId": connector,
            },
        )
        await self.call(
            "NotifyEvent",
            {
                "generatedAt": now(),
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": next(_EVENT_IDS),
                        "timestamp": now(),
                        "trigger": "Delta",
                        "actualValue": status,
                        "eventNotificationType": "HardWiredNotification",
                        "component": {
                            "name": "Connector",
                            "evse": {"id": evse, "connectorId": connector},
                        },
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            },
        )

    async def authorize(self, token: str = VALID) -> dict[str, Any]:
        """Authorize; returns idTokenInfo."""
        answer = await self.call("Authorize", {"idToken": id_token(token)})
        info: dict[str, Any] = answer["idTokenInfo"]
        return info

    def transaction(self, evse: int = 1) -> Transaction:
        """The EVSE's transaction, a new one when there is none."""
        if evse not in self.transactions:
            self.transactions[evse] = Transaction(uuid.uuid4().hex, evse, register_wh=10_000 * evse)
        return self.transactions[evse]

    async def transaction_event(
        self,
        event_type: str,
        trigger: str,
        evse: int = 1,
        *,
        token: str | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        meter_values: list[dict[str, Any]] | None = None,
        offline: bool = False,
        seq_no: int | None = None,
        remote_start_id: int | None = None,
        with_evse: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """A TransactionEvent on the EVSE's transaction; seqNo counts on unless given."""
        tx = self.transaction(evse)
        if seq_no is None:
            seq_no = tx.next_seq_no
        tx.next_seq_no = max(tx.next_seq_no, seq_no + 1)
        info: dict[str, Any] = {"transactionId": tx.id}
        if charging_state is not None:
            info["chargingState"] = charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": now(),
            "triggerReason": trigger,
            "seqNo": seq_no,
            "transactionInfo": info,
        }
        if with_evse:
            payload["evse"] = {"id": evse, "connectorId": tx.connector}
        if token is not None:
            payload["idToken"] = id_token(token)
        if meter_values:
            payload["meterValue"] = meter_values
        if offline:
            payload["offline"] = True
        payload |= extra
        if event_type == "Started":
            tx.started = True
        answer = await self.call("TransactionEvent", payload)
        if event_type == "Ended":
            del self.transactions[evse]
        return answer

    async def _event(self, trigger: str, evse: int, **options: Any) -> dict[str, Any]:
        """Started for the first event of the transaction, Updated afterwards."""
        tx = self.transaction(evse)
        event_type = "Updated" if tx.started else "Started"
        if event_type == "Started":
            options.setdefault("meter_values", [meter_value(tx.register_wh, "Transaction.Begin")])
        return await self.transaction_event(event_type, trigger, evse, **options)

    # -- reusable states -----------------------------------------------------------------------

    async def booted(self, reason: str = "PowerUp") -> dict[str, Any]:
        """Booted: BootNotification answered Accepted, every connector reported Available."""
        answer = await self.boot(reason)
        assert answer["status"] == "Accepted", answer
        for evse in self.evses:
            await self.status(evse, "Available")
        return answer

    async def ev_connected_pre_session(self, evse: int = 1) -> dict[str, Any]:
        tx = self.transaction(evse)
        await self.status(evse, "Occupied", tx.connector)
        answer = await self._event("CablePluggedIn", evse, charging_state="EVConnected")
        tx.ev_connected = True
        return answer

    async def authorized(self, evse: int = 1, token: str = VALID) -> dict[str, Any]:
        info = await self.authorize(token)
        assert info["status"] == "Accepted", info
        answer = await self._event("Authorized", evse, token=token)
        assert answer["idTokenInfo"]["status"] == "Accepted", answer
        self.transaction(evse).authorized = True
        return answer

    async def energy_transfer_started(self, evse: int = 1, token: str = VALID) -> dict[str, Any]:
        tx = self.transaction(evse)
        if not tx.authorized:
            await self.authorized(evse, token)
        if not tx.ev_connected:
            await self.status(evse, "Occupied", tx.connector)
            await self.transaction_event(
                "Updated", "CablePluggedIn", evse, charging_state="EVConnected"
            )
            tx.ev_connected = True
        return await self.charging(evse)

    async def charging(self, evse: int = 1, state: str = "Charging") -> dict[str, Any]:
        """A ChargingStateChanged update with some energy metered since the last one."""
        tx = self.transaction(evse)
        tx.register_wh += 1500
        return await self.transaction_event(
            "Updated",
            "ChargingStateChanged",
            evse,
            charging_state=state,
            meter_values=[meter_value(tx.register_wh)],
        )

    async def energy_transfer_suspended(self, evse: int = 1) -> dict[str, Any]:
        return await self.charging(evse, "SuspendedEV")

    async def stop_authorized(self, evse: int = 1, token: str = VALID) -> dict[str, Any]:
        answer = await self.transaction_event("Updated", "StopAuthorized", evse, token=token)
        assert answer["idTokenInfo"]["status"] == "Accepted", answer
        return answer

    async def ev_connected_post_session(self, evse: int = 1) -> dict[str, Any]:
        return await self.transaction_event(
            "Updated", "ChargingStateChanged", evse, charging_state="EVConnected"
        )

    async def ev_disconnected(self, evse: int = 1, **options: Any) -> dict[str, Any]:
        tx = self.transaction(evse)
        await self.status(evse, "Available", tx.connector)
        options.setdefault("meter_values", [meter_value(tx.register_wh, "Transaction.End")])
        return await self.transaction_event(
            "Ended",
            "EVCommunicationLost",
            evse,
            charging_state="Idle",
            stopped_reason="EVDisconnected",
            **options,
        )

    async def full_stop(self, evse: int = 1, token: str = VALID) -> dict[str, Any]:
        """StopAuthorized, EVConnectedPostSession and EVDisconnected, as most cases end."""
        await self.stop_authorized(evse, token)
        await self.ev_connected_post_session(evse)
        return await self.ev_disconnected(evse)


_EVENT_IDS = itertools.count(1)


# --- OCPP 1.6 -----------------------------------------------------------------------------------


class Station16(Station):
    """An OCPP 1.6 station with one connector; the CSMS assigns transaction ids."""

    def __init__(self, url: str, station_id: str = STATION_16, **options: Any) -> None:
        self.configuration: dict[str, str] = {
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": "60",
            "AuthorizationKey": PASSWORD.encode().hex(),
            "LocalAuthListEnabled": "true",
        }
        super().__init__(url, station_id, OcppVersion.V16, **options)
        self.transaction_id: int | None = None
        self.register_wh = 5_000

    def default_replies(self) -> Mapping[str, Reply]:
        accepted = {"status": "Accepted"}
        return {
            "RemoteStartTransaction": accepted,
            "RemoteStopTransaction": accepted,
            "Reset": accepted,
            "UnlockConnector": {"status": "Unlocked"},
            "ChangeAvailability": accepted,
            "TriggerMessage": accepted,
            "GetConfiguration": self._get_configuration,
            "ChangeConfiguration": self._change_configuration,
            "ClearCache": accepted,
            "SendLocalList": accepted,
            "GetLocalListVersion": {"listVersion": 0},
            "ReserveNow": accepted,
            "CancelReservation": accepted,
            "SetChargingProfile": accepted,
            "ClearChargingProfile": accepted,
            "GetCompositeSchedule": {"status": "Rejected"},
            "UpdateFirmware": {},
            "GetDiagnostics": {"fileName": "diagnostics.zip"},
            "DataTransfer": {"status": "UnknownVendorId"},
        }

    def _get_configuration(self, request: dict[str, Any]) -> dict[str, Any]:
        keys = request.get("key") or list(self.configuration)
        known = [k for k in keys if k in self.configuration and k != "AuthorizationKey"]
        answer: dict[str, Any] = {
            "configurationKey": [
                {"key": k, "readonly": False, "value": self.configuration[k]} for k in known
            ]
        }
        unknown = [k for k in keys if k not in known]
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    def _change_configuration(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["key"] not in self.configuration:
            return {"status": "NotSupported"}
        self.configuration[request["key"]] = request["value"]
        return {"status": "Accepted"}

    async def boot(self) -> dict[str, Any]:
        return await self.call(
            "BootNotification",
            {"chargePointVendor": "Intercarga Tests", "chargePointModel": "Conformance 1.6"},
        )

    async def booted(self) -> dict[str, Any]:
        answer = await self.boot()
        assert answer["status"] == "Accepted", answer
        for connector in (0, 1):
            await self.status(connector, "Available")
        return answer

    async def status(self, connector: int, status: str, error: str = "NoError") -> dict[str, Any]:
        return await self.call(
            "StatusNotification",
            {"connectorId": connector, "errorCode": error, "status": status, "timestamp": now()},
        )

    async def authorize(self, token: str = VALID) -> dict[str, Any]:
        answer = await self.call("Authorize", {"idTag": token})
        info: dict[str, Any] = answer["idTagInfo"]
        return info

    async def start(self, token: str = VALID, connector: int = 1) -> dict[str, Any]:
        answer = await self.call(
            "StartTransaction",
            {
                "connectorId": connector,
                "idTag": token,
                "meterStart": self.register_wh,
                "timestamp": now(),
            },
        )
        self.transaction_id = answer["transactionId"]
        return answer

    async def meter_values(
        self, wh: int, *, transaction_id: int | None = None, connector: int = 1, **sample: Any
    ) -> dict[str, Any]:
        self.register_wh = wh
        payload: dict[str, Any] = {
            "connectorId": connector,
            "meterValue": [
                {
                    "timestamp": now(),
                    "sampledValue": [
                        {
                            "value": str(wh),
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        }
                        | sample
                    ],
                }
            ],
        }
        tx = transaction_id if transaction_id is not None else self.transaction_id
        if tx is not None:
            payload["transactionId"] = tx
        return await self.call("MeterValues", payload)

    async def stop(
        self,
        *,
        token: str | None = VALID,
        reason: str | None = None,
        transaction_id: int | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        tx = transaction_id if transaction_id is not None else self.transaction_id
        assert tx is not None, "no transaction to stop"
        payload: dict[str, Any] = {
            "transactionId": tx,
            "meterStop": self.register_wh,
            "timestamp": now(),
        }
        if token is not None:
            payload["idTag"] = token
        if reason is not None:
            payload["reason"] = reason
        if transaction_data is not None:
            payload["transactionData"] = transaction_data
        answer = await self.call("StopTransaction", payload)
        self.transaction_id = None
        return answer


# --- the operator ------------------------------------------------------------------------------


@dataclass
class Csms:
    """The CSMS under test, as its operator and the test see it."""

    system: System
    client: httpx.AsyncClient
    url: str
    tls_url: str | None = None
    stations: list[Station] = field(default_factory=list)

    def station201(self, station_id: str = STATION_201, **options: Any) -> Station201:
        station = Station201(self.url, station_id, **options)
        self.stations.append(station)
        return station

    def station16(self, station_id: str = STATION_16, **options: Any) -> Station16:
        station = Station16(self.url, station_id, **options)
        self.stations.append(station)
        return station

    async def command(
        self,
        station_id: str,
        name: str,
        body: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> dict[str, Any]:
        """Run a version-free command through the admin API; its result (or problem) JSON."""
        response = await self.client.post(
            f"/api/v1/stations/{station_id}/commands/{name}", json=dict(body or {})
        )
        assert response.status_code == status, response.text
        shown: dict[str, Any] = response.json()
        return shown["result"] if status == 200 else shown

    async def raw(
        self, station_id: str, action: str, payload: Mapping[str, Any], *, status: int = 200
    ) -> dict[str, Any]:
        """Send any OCPP action through the admin API; the station's answer (or problem) JSON."""
        response = await self.client.post(
            f"/api/v1/stations/{station_id}/ocpp/{action}", json=dict(payload)
        )
        assert response.status_code == status, response.text
        shown: dict[str, Any] = response.json()
        return shown["response"] if status == 200 else shown

    async def register(self, station_id: str, status: str) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/stations/{station_id}/registration", json={"status": status}
        )
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()
        return shown

    async def station_record(self, station_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/stations/{station_id}")
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()
        return shown

    async def sessions(self, station_id: str, **filters: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/v1/sessions", params={"station": station_id, "limit": "100", **filters}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def session(self, station_id: str, transaction_id: str | int) -> dict[str, Any]:
        """The session of one transaction (there must be exactly one)."""
        found = [
            s for s in await self.sessions(station_id) if s["transaction_id"] == str(transaction_id)
        ]
        assert len(found) == 1, found
        return found[0]

    async def evse_status(self, location_id: str, evse_uid: str) -> str:
        response = await self.client.get(f"/api/v1/locations/CL/ICG/{location_id}")
        if response.status_code == 404:
            response = await self.client.get(f"/api/v1/locations/CO/ICG/{location_id}")
        assert response.status_code == 200, response.text
        for evse in response.json()["evses"]:
            if evse["uid"] == evse_uid:
                status: str = evse["status"]
                return status
        raise AssertionError(f"no EVSE {evse_uid} at {location_id}")
