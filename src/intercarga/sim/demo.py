"""The demo: the example network's stations, simulated in the serving process, charging again
and again, so that a new user sees live status, sessions and priced CDRs within a minute.

``intercarga serve --demo`` (off by default) starts it after the OCPP endpoint. It gives each
example station a password only the demo knows, lets the simulator's card charge, and plays a
short loop (plug in, authorize, charge 15 simulated minutes, stop, unplug, rest) at 60 times real
speed, the stations a few seconds apart. It must never touch a store that is not the example
network's: it leaves alone any station or token that is not the example's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from intercarga.domain import Token
from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError
from intercarga.security import hash_password
from intercarga.sim.clock import SimClock
from intercarga.sim.example import example_network
from intercarga.sim.fleet import FleetConfig, station_configs
from intercarga.sim.link import SimulationError
from intercarga.sim.station import SimulatedStation
from intercarga.store import Store

__all__ = ["DEMO_CARD", "run_demo"]

log = logging.getLogger(__name__)

DEMO_CARD = "04A10000000001"  # the simulator's card for station number 1
_SPEED = 60.0
_CHARGE_MINUTES = 15.0
_REST_S = 300.0  # simulated: five real seconds at 60×


async def _prepare(store: Store, password: str) -> list[tuple[str, OcppVersion]]:
    """Passwords for the example stations and a token for the demo card; (station, version)."""
    network = example_network()
    chosen = []
    hashed = await asyncio.to_thread(hash_password, password)
    for station in network.stations:
        stored = await store.stations.find(station.id)
        if stored is None or station.ocpp_version is None or not station.id.endswith("0001"):
            continue
        await store.stations.put(stored.model_copy(update={"password_hash": hashed}))
        chosen.append((station.id, station.ocpp_version))
    party = network.parties[0]
    if await store.tokens.find(party.country_code, party.party_id, DEMO_CARD) is None:
        await store.tokens.put(
            Token(
                country_code=party.country_code,
                party_id=party.party_id,
                uid=DEMO_CARD,
                type="RFID",
                contract_id=f"{party.country_code}-{party.party_id}-C00000009-X",
                issuer=party.name,
                whitelist="ALLOWED",
            )
        )
    return chosen


async def _loop(station: SimulatedStation, delay: float) -> None:
    await asyncio.sleep(delay)
    try:
        await station.power_on(timeout=30)
        while True:
            await station.plug_in(1)
            await station.authorize(DEMO_CARD, 1)
            await station.start(1, DEMO_CARD)
            await station.charge(1, minutes=_CHARGE_MINUTES)
            await station.stop(1, "Local")
            await station.unplug(1)
            await station.wait(_REST_S)
    except (SimulationError, IntercargaError) as error:
        log.error("demo station %s stopped: %s", station.station_id, error)


async def run_demo(store: Store, ocpp_url: str, stopping: asyncio.Event) -> None:
    """Play the demo until ``stopping`` is set; a station that fails is logged and left."""
    password = secrets.token_urlsafe(18)
    try:
        chosen = await _prepare(store, password)
    except IntercargaError as error:
        log.error("the demo cannot start: %s", error)
        return
    clock = SimClock(_SPEED)
    stations = []
    for station_id, version in chosen:
        # Station n of a fleet is {prefix}{n:04d}: the example's ids all end in 0001.
        prefix = station_id.removesuffix("0001")
        config = FleetConfig(
            url=ocpp_url, version=version, password=password, id_prefix=prefix, speed=_SPEED
        )
        (station_config,) = station_configs(config)
        stations.append(SimulatedStation(station_config, clock))
    tasks = [
        asyncio.create_task(_loop(station, 2.0 * index), name=f"demo-{index}")
        for index, station in enumerate(stations)
    ]
    try:
        await stopping.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for station in stations:
            with contextlib.suppress(Exception):
                await station.shutdown()
