"""Baseline (b): a CSMS written the way most Python users write one, on the ``ocpp`` library.

One :class:`ocpp.v16.ChargePoint` or :class:`ocpp.v201.ChargePoint` subclass per connection,
handlers registered with ``@on``, the library's default validation (jsonschema, run in the
default thread pool as the library does by default), and a plain in-memory store (dicts): no
database at all, so whatever it loses against Intercarga is not storage. It is the benchmark's
comparison point, never product code, and must not be used to serve real stations.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection

__all__ = ["MemoryStore", "handle_connection"]

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class MemoryStore:
    """What the baseline remembers: stations, transactions and their meter values, in dicts."""

    def __init__(self) -> None:
        self.stations: dict[str, dict[str, Any]] = {}
        self.last_seen: dict[str, str] = {}
        self.transactions: dict[tuple[str, str], dict[str, Any]] = {}
        self.meter_values: dict[tuple[str, str], list[Any]] = defaultdict(list)
        self.transaction_ids = itertools.count(1)


class Station16(ChargePoint16):  # type: ignore[misc]
    def __init__(self, station_id: str, connection: Any, store: MemoryStore) -> None:
        super().__init__(station_id, connection)
        self.store = store

    @on("BootNotification")  # type: ignore[untyped-decorator]
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **extra: Any) -> Any:
        self.store.stations[self.id] = {"vendor": charge_point_vendor, "model": charge_point_model}
        return result16.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on("Heartbeat")  # type: ignore[untyped-decorator]
    def on_heartbeat(self) -> Any:
        self.store.last_seen[self.id] = _now()
        return result16.Heartbeat(current_time=_now())

    @on("StatusNotification")  # type: ignore[untyped-decorator]
    def on_status(self, connector_id: int, error_code: str, status: str, **extra: Any) -> Any:
        return result16.StatusNotification()

    @on("StartTransaction")  # type: ignore[untyped-decorator]
    def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **extra: Any
    ) -> Any:
        transaction_id = next(self.store.transaction_ids)
        self.store.transactions[(self.id, str(transaction_id))] = {
            "connector": connector_id,
            "id_tag": id_tag,
            "meter_start": meter_start,
            "start": timestamp,
        }
        return result16.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on("MeterValues")  # type: ignore[untyped-decorator]
    def on_meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None
    ) -> Any:
        self.store.meter_values[(self.id, str(transaction_id))].extend(meter_value)
        return result16.MeterValues()

    @on("StopTransaction")  # type: ignore[untyped-decorator]
    def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int, **extra: Any) -> Any:
        self.store.transactions[(self.id, str(transaction_id))]["stop"] = timestamp
        return result16.StopTransaction()


class Station201(ChargePoint201):  # type: ignore[misc]
    def __init__(self, station_id: str, connection: Any, store: MemoryStore) -> None:
        super().__init__(station_id, connection)
        self.store = store

    @on("BootNotification")  # type: ignore[untyped-decorator]
    def on_boot(self, charging_station: dict[str, Any], reason: str, **extra: Any) -> Any:
        self.store.stations[self.id] = charging_station
        return result201.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")  # type: ignore[untyped-decorator]
    def on_heartbeat(self) -> Any:
        self.store.last_seen[self.id] = _now()
        return result201.Heartbeat(current_time=_now())

    @on("StatusNotification")  # type: ignore[untyped-decorator]
    def on_status(self, **extra: Any) -> Any:
        return result201.StatusNotification()

    @on("TransactionEvent")  # type: ignore[untyped-decorator]
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Any:
        key = (self.id, transaction_info["transaction_id"])
        transaction = self.store.transactions.setdefault(key, {"start": timestamp})
        transaction["seq_no"] = seq_no
        if event_type == "Ended":
            transaction["stop"] = timestamp
        if meter_value:
            self.store.meter_values[key].extend(meter_value)
        if id_token is not None:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()


async def handle_connection(websocket: ServerConnection, store: MemoryStore) -> None:
    """The usual ``on_connect``: pick the class by subprotocol and run the library's loop."""
    assert websocket.request is not None
    station_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    kind = Station16 if websocket.subprotocol == "ocpp1.6" else Station201
    station = kind(station_id, websocket, store)
    try:
        await station.start()
    except Exception:  # the library ends its loop with the connection's exception
        log.debug("connection of %s ended", station_id)
