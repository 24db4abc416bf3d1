"""Benchmark 4b: the OCPI push outbox delivering EVSE status updates to one partner.

One process (pinned to one CPU) holds Intercarga's store on SQLite and its roaming service
(:class:`intercarga.ocpi.roaming.Roaming`, as ``intercarga serve`` builds it): ``count`` EVSE
status changes of distinct EVSEs go in as the event bus would hand them over
(``Pusher.on_evse_status``: each is stored in the outbox before anything is sent), and the
outbox's lane sends them, one at a time and in order, as OCPI 2.2.1 PATCHes to a partner eMSP.
The partner is a minimal HTTP server in another process (the other CPU) that answers every
request with OCPI status 1000 at once, so the figure is the sender's. Measured: updates stored
per second, and updates delivered per second from the first stored to the last confirmed.

Set-up, not measured: the locations and the REGISTERED partner are written into the store.
This module measures; it must never decide what a good figure is.
"""

from __future__ import annotations

import asyncio
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
class OutboxResult:
    updates: int
    delivered: int
    failed: int
    enqueue_s: float
    total_s: float

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
        }


async def _measure(count: int, partner_url: str, folder: str) -> OutboxResult:
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
        await roaming.outbox.start()  # the change watcher is left off: only these updates
        at = datetime(2025, 1, 1, tzinfo=UTC)
        began = time.perf_counter()
        for index, (location_id, evse_uid) in enumerate(evses[:count]):
            await roaming.pusher.on_evse_status(
                EvseStatusChanged(
                    "CL",
                    "ICG",
                    location_id,
                    evse_uid,
                    EVSEStatus.CHARGING if index % 2 else EVSEStatus.AVAILABLE,
                    at + timedelta(seconds=index),
                )
            )
        stored = time.perf_counter() - began
        backlog = await roaming.outbox.repository.backlog(partner_id)
        deadline = time.perf_counter() + 300
        while backlog.pending and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
            backlog = await roaming.outbox.repository.backlog(partner_id)
        total = time.perf_counter() - began
        await roaming.outbox.stop()
        return OutboxResult(count, backlog.sent, backlog.failed, stored, total)
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
