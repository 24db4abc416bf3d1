"""A fleet of simulated stations playing one scenario against one CSMS, and its summary.

Station ``n`` (1-based) is ``{id_prefix}{n:04d}``, presents ``scenario.token(n)`` as its RFID
card and brings a car whose state of charge varies with ``n``, so a fleet does not move in
lockstep. Starts are spread over ``ramp_s`` real seconds so a thousand stations do not knock at
once. The fleet ends when every scenario has ended, or when ``duration`` real seconds have
passed (stations whose scenario ended earlier stay connected and keep heartbeating until then).

This module runs stations and counts; it must never print (the CLI and the live view do).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from intercarga.domain.station import OcppVersion
from intercarga.sim.clock import SimClock
from intercarga.sim.link import SimulationError
from intercarga.sim.scenario import DEFAULT_SCENARIO, Scenario, Step, run_scenario
from intercarga.sim.station import SimulatedStation, StationConfig
from intercarga.sim.stats import MessageStats

__all__ = ["Fleet", "FleetConfig", "station_configs"]

_FAILURES_LISTED = 20


@dataclass(frozen=True)
class FleetConfig:
    url: str
    stations: int = 1
    version: OcppVersion = OcppVersion.V201
    password: str | None = None
    id_prefix: str = "SIM-"
    first: int = 1  # the first station's number (ids, cards and vehicles follow the number)
    speed: float = 1.0
    scenario: Scenario = DEFAULT_SCENARIO
    ramp_s: float | None = None  # None: 2 ms per station, at most 10 s
    call_timeout: float = 30.0
    validate: bool = True

    def __post_init__(self) -> None:
        if self.stations < 1:
            raise SimulationError("a fleet needs at least one station")
        if not 1 <= self.first <= 9999 - self.stations + 1:
            raise SimulationError("station numbers run from 1 to 9999")
        if not self.speed > 0:
            raise SimulationError("the speed factor must be positive")


def station_configs(config: FleetConfig) -> list[StationConfig]:
    options = config.scenario.station
    return [
        StationConfig(
            station_id=f"{config.id_prefix}{number:04d}",
            url=config.url,
            version=config.version,
            password=config.password,
            evses=options.evses,
            charge_point=options.charge_point(),
            vehicle=config.scenario.vehicle.vehicle(number),
            id_tag=config.scenario.token(number),
            heartbeat_s=options.heartbeat,
            meter_interval_s=options.meter_interval,
            call_timeout=config.call_timeout,
            # Meters are not new: registers start somewhere in the first thousand kWh.
            register_wh=float((number * 7919) % 1_000_000),
            validate=config.validate,
        )
        for number in range(config.first, config.first + config.stations)
    ]


@dataclass
class _Run:
    station: SimulatedStation
    step: str = "waiting"
    failure: str | None = None
    finished: bool = False


@dataclass
class Fleet:
    """Run with :meth:`run`; read :attr:`stations` and :meth:`summary` at any time."""

    config: FleetConfig
    clock: SimClock = field(init=False)
    _runs: list[_Run] = field(init=False)
    _started: float = field(init=False, default=0.0)
    _ended: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.clock = SimClock(self.config.speed)
        self._runs = [
            _Run(SimulatedStation(station, self.clock)) for station in station_configs(self.config)
        ]

    @property
    def stations(self) -> list[SimulatedStation]:
        return [run.station for run in self._runs]

    def activity(self, index: int) -> tuple[str, str | None, bool]:
        """(current step, failure, finished) of station ``index``."""
        run = self._runs[index]
        return run.step, run.failure, run.finished

    async def run(self, duration: float | None = None) -> dict[str, Any]:
        """Play the scenario on every station; returns :meth:`summary`."""
        self._started = time.monotonic()
        ramp = self.config.ramp_s
        if ramp is None:
            ramp = min(10.0, 0.002 * len(self._runs))
        gap = ramp / len(self._runs)
        tasks = [
            asyncio.create_task(self._play(run, index * gap))
            for index, run in enumerate(self._runs)
        ]
        try:
            if duration is None:
                await asyncio.gather(*tasks)
            else:
                await asyncio.wait(tasks, timeout=duration)
                left = duration - (time.monotonic() - self._started)
                if left > 0:
                    await asyncio.sleep(left)  # finished early: stay connected until the end
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(
                *(run.station.shutdown() for run in self._runs), return_exceptions=True
            )
            self._ended = time.monotonic()
        return self.summary()

    async def _play(self, run: _Run, delay: float) -> None:
        await asyncio.sleep(delay)

        def on_step(index: int, step: Step) -> None:
            run.step = step.kind

        try:
            await run_scenario(run.station, self.config.scenario, on_step=on_step)
            run.step = "done"
        except SimulationError as error:
            run.failure = str(error)
            run.step = "failed"
        finally:
            run.finished = True
        # Let queued transaction messages go out before the station is switched off.
        if run.station.online:
            await run.station.flush(self.config.call_timeout)

    def summary(self) -> dict[str, Any]:
        stations = self.stations
        stats = MessageStats.merge(station.stats for station in stations)
        failures = [f"{run.station.station_id}: {run.failure}" for run in self._runs if run.failure]
        end = self._ended if self._ended is not None else time.monotonic()
        return {
            "ocpp": self.config.version.value.removeprefix("ocpp"),
            "stations": len(stations),
            "scenario": self.config.scenario.name,
            "speed": self.config.speed,
            "duration_s": round(end - self._started, 3) if self._started else 0.0,
            "accepted": sum(1 for s in stations if s.boot_status == "Accepted"),
            "sessions": {
                "started": sum(s.sessions_started for s in stations),
                "completed": sum(s.sessions_completed for s in stations),
            },
            "energy_kwh": round(sum(s.energy_wh() for s in stations) / 1000.0, 3),
            "messages": {
                "sent": stats.sent,
                "answered": stats.answered,
                "errors": stats.errors,
                "received_calls": stats.received_calls,
                "by_action": dict(sorted(stats.by_action.items())),
            },
            "latency_ms": stats.latency_ms(),
            "failed_stations": len(failures),
            "failures": failures[:_FAILURES_LISTED],
        }
