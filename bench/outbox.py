"""Benchmark 4b: the OCPI push outbox delivering EVSE status updates to one partner.

One process (pinned to one CPU) holds Intercarga's store on SQLite and its roaming service
(:class:`intercarga.ocpi.roaming.Roaming`, as ``intercarga serve`` builds it): ``count`` EVSE
status changes of distinct EVSEs go in as the event bus would hand them over
(``Pusher.on_evse_status``: each is stored in the outbox before the call returns), and the
outbox's lane sends them in order per EVSE as OCPI 2.2.1 PATCHes to a partner eMSP. The partner
is a minimal HTTP server in another process (the other CPU) that answers every request with OCPI
status 1000 at once, so the figure is the sender's. Three rounds over the same EVSEs: the
changes handed over one after the other by one publisher (each waiting for its row's commit);
handed over by ``stations`` publishers at once, each its own EVSEs' in order (as many stations'
StatusNotifications are); and a backlog of ``count`` rows stored while the outbox was stopped,
then drained. Measured: updates stored per second, updates delivered per second from the
first stored (the backlog: from the outbox's start) to the last confirmed, and this process's
CPU time per update over the same span (steadier than rates on a shared machine).

Set-up, not measured: the locations and the REGISTERED partner are written into the store.
This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import client_pool, placement
from bench.servers import ServerProcess, pin

__all__ = ["OutboxResult", "run_outbox"]


@dataclass
class OutboxRound:
    updates: int
    delivered: int
    failed: int
    enqueue_s: float
    total_s: float
    cpu_s: float = 0.0  # this process's CPU time (every thread) over the round

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu_s * 1000 / self.delivered if self.delivered else 0.0

    @property
    def stored_per_s(self) -> float:
        return self.updates / self.enqueue_s if self.enqueue_s else 0.0

    @property
    def delivered_per_s(self) -> float:
        return self.delivered / self.total_s if self.total_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "delivered": self.delivered,
            "failed": self.failed,
            "stored_per_s": round(self.stored_per_s, 1),
            "delivered_per_s": round(self.delivered_per_s, 1),
            "cpu_ms_per_update": round(self.cpu_ms_per_update, 3),
        }


@dataclass
class OutboxResult:
    one: OutboxRound  # one publisher, one change at a time
    many: OutboxRound  # ``stations`` publishers at once
    backlog: OutboxRound  # stored first, then drained
    stations: int

    @property
    def updates(self) -> int:
        return self.one.updates

    def to_dict(self) -> dict[str, Any]:
        return {
            "stations": self.stations,
            "one_publisher": self.one.to_dict(),
            "publishers": self.many.to_dict(),
            "backlog": self.backlog.to_dict(),
        }


class _Confirmed:
    """Counts the rows the outbox marked sent (its delivery hook): no polling of the store."""

    def __init__(self) -> None:
        self.count = 0
        self.wanted = 0
        self.reached = asyncio.Event()

    async def __call__(self, _entry: Any) -> None:
        self.count += 1
        if self.count >= self.wanted:
            self.reached.set()

    def expect(self, more: int) -> None:
        self.wanted = self.count + more
        self.reached = asyncio.Event()


async def _drained(roaming: Any, partner_id: str, confirmed: _Confirmed) -> Any:
    """The partner's backlog once every row of the round is confirmed, or nothing is pending
    (five minutes at most)."""
    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.reached.wait(), timeout=1.0)
        if confirmed.reached.is_set():
            break
        if not (await roaming.outbox.repository.backlog(partner_id)).pending:
            break  # some failed: the round is over all the same
    return await roaming.outbox.repository.backlog(partner_id)


async def _measure(count: int, partner_url: str, folder: str, stations: int = 50) -> OutboxResult:
    from pydantic import SecretStr

    from intercarga.app import System
    from intercarga.config import Settings
    from intercarga.domain import EVSEStatus
    from intercarga.domain.events import EvseStatusChanged
    from intercarga.domain.partner import (
        Partner,
        PartnerEndpoint,
        PartnerRole,
        PartnerState,
    )
    from intercarga.ocpi.roaming import Roaming
    from intercarga.security import hash_token
    from intercarga.sim.example import example_network
    from intercarga.store.partners import PartnerRepository

    settings = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{folder}/outbox.db"),
        admin_token=SecretStr("bench-admin-token-0123456789abcdef"),
        # The partner of this bench is at http://127.0.0.1.
        ocpi={"allow_http_partner_urls": True, "allow_private_partner_urls": True},
    )
    system = await System.open(settings)
    try:
        store = system.store
        template = next(
            location for location in example_network().locations if location.country_code == "CL"
        )
        evses: list[tuple[str, str]] = []
        number = 0
        while len(evses) < count:
            location = template.model_copy(
                update={
                    "id": f"OUT-{number:05d}",
                    "evses": [
                        evse.model_copy(update={"uid": f"{evse.uid}-{number}", "evse_id": None})
                        for evse in template.evses
                    ],
                }
            )
            await store.locations.put(location)
            evses.extend((location.id, evse.uid) for evse in location.evses)
            number += 1
        partner_id = "bench-emsp"
        await PartnerRepository(store.engine).put(
            Partner(
                id=partner_id,
                name="Bench eMSP",
                state=PartnerState.REGISTERED,
                initiated_by="THEM",
                version="2.2.1",
                versions_url=f"{partner_url}/versions",
                token_hash=hash_token("bench-emsp-token-0123456789abcdef"),
                outgoing_token="bench-outgoing-token-0123456789",
                roles=[PartnerRole(country_code="CO", party_id="EMS", role="EMSP", name="Bench")],
                endpoints=[
                    PartnerEndpoint(
                        identifier="locations", role="RECEIVER", url=f"{partner_url}/locations"
                    )
                ],
            )
        )
        roaming = Roaming.build(settings, store)
        chosen = evses[:count]
        at = datetime(2025, 1, 1, tzinfo=UTC)

        def change(index: int, round_: int) -> EvseStatusChanged:
            location_id, evse_uid = chosen[index]
            status = EVSEStatus.CHARGING if (index + round_) % 2 else EVSEStatus.AVAILABLE
            when = at + timedelta(hours=round_, seconds=index)
            return EvseStatusChanged("CL", "ICG", location_id, evse_uid, status, when)

        async def publisher(indexes: range, round_: int) -> None:
            for index in indexes:
                await roaming.pusher.on_evse_status(change(index, round_))

        rounds: list[OutboxRound] = []
        confirmed = _Confirmed()
        roaming.outbox.on_sent(confirmed)
        before = await roaming.outbox.repository.backlog(partner_id)
        for round_ in range(3):
            confirmed.expect(count)
            if round_ == 2:
                await roaming.outbox.stop()  # the backlog round: stored first
            else:
                await roaming.outbox.start()  # the change watcher is left off
            began, cpu = time.perf_counter(), time.process_time()
            if round_ == 0:
                await publisher(range(count), round_)
            else:
                await asyncio.gather(
                    *(publisher(range(i, count, stations), round_) for i in range(stations))
                )
            stored = time.perf_counter() - began
            if round_ == 2:
                began, cpu = time.perf_counter(), time.process_time()
                await roaming.outbox.start()
                roaming.outbox.wake(partner_id)
            backlog = await _drained(roaming, partner_id, confirmed)
            total, used = time.perf_counter() - began, time.process_time() - cpu
            sent, failed = backlog.sent - before.sent, backlog.failed - before.failed
            rounds.append(OutboxRound(count, sent, failed, stored, total, used))
            before = backlog
        await roaming.outbox.stop()
        return OutboxResult(rounds[0], rounds[1], rounds[2], stations)
    finally:
        await system.close()


def _worker(count: int, partner_url: str, cpu: int | None) -> OutboxResult:
    pin(cpu)
    with tempfile.TemporaryDirectory(prefix="intercarga-outbox-") as folder:
        return asyncio.run(_measure(count, partner_url, folder))


def run_outbox(count: int = 2000) -> OutboxResult:
    server_cpu, client_cpu = placement()
    with ServerProcess("partner", cpu=client_cpu) as partner, client_pool() as pool:
        url = f"http://127.0.0.1:{partner.port}/ocpi/emsp/2.2.1"
        return pool.submit(_worker, count, url, server_cpu).result()


if __name__ == "__main__":
    print(run_outbox(int(sys.argv[1]) if len(sys.argv) > 1 else 2000).to_dict())
