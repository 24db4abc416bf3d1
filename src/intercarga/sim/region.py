"""``intercarga demo``: a live roaming region on this machine, every party its own deployment.

The region (``data/demo/region.toml``): CPOs in Chile, Colombia and Brazil, a regional and a
national eMSP, a roaming hub and an access point, each an ``intercarga serve`` process with its
own folder and SQLite database on free ports. They meet only the way real parties do: the OCPI
credentials handshake from a TOKEN_A, then OCPI over HTTP. Every charge is drawn from the seed
before anything runs (:func:`plan_traffic`): drivers of each eMSP pick stations at the CPOs their
eMSP reaches, mostly abroad, and each charge paid at a terminal has its one-time token.
Simulated stations (the simulator's :class:`Fleet`, on a thread of this process) play those
charges at the CPOs, which authorize each card in real time with its eMSP (directly or through
the hub), and an eMSP starts and stops a charge from its app (OCPI commands); every session is
priced in its CPO's currency and its CDR travels to the driver's eMSP. Incidents play on a
schedule (:meth:`Demo.run`): a station offline and back, an eMSP down, a tariff change, a CPO
that stops reporting to the access point; the summary says, from the parties' admin APIs,
whether each played out, nothing was lost, and every count is the plan's.

What this module knows of a party it reads from the party's admin API, like an operator: it never
opens a database or reaches into a process. Every process it starts is stopped when the demo ends,
however it ends (and dies with the demo if the demo itself is killed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import random
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intercarga.domain.station import OcppVersion
from intercarga.errors import IntercargaError, InvalidInputError, StorageError
from intercarga.ids.contract_id import iso_check_character
from intercarga.sim.fleet import Fleet, FleetConfig
from intercarga.sim.processes import Deployment, DeploymentError, OcpiParty
from intercarga.sim.scenario import parse_scenario
from intercarga.store.database import recreate_schemas

__all__ = [
    "Charge",
    "Demo",
    "DemoOptions",
    "DemoPlan",
    "PartyStatus",
    "Traffic",
    "card_uid",
    "load_plan",
    "plan_traffic",
    "rounds_for",
]

STATION_PASSWORD = "demo-station-password-2026"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _About(_Strict):
    what: str
    source: str
    date: str


class PartySpec(_Strict):
    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    party_id: str = Field(pattern=r"^[A-Z0-9]{3}$")
    role: Literal["CPO", "EMSP", "HUB", "NAP"]
    name: str


class StationGroup(_Strict):
    prefix: str
    ocpp: Literal["1.6", "2.0.1", "2.1"]
    first: int = Field(ge=1, le=9999)
    count: int = Field(ge=1, le=100)
    current: Literal["AC", "DC"]

    def numbers(self) -> range:
        return range(self.first, self.first + self.count)


class DeploymentSpec(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str
    network: str | None = None
    versions: list[str] | None = None
    parties: list[PartySpec] = Field(min_length=1)
    stations: list[StationGroup] = []

    @property
    def is_cpo(self) -> bool:
        return any(party.role == "CPO" for party in self.parties)


class Link(_Strict):
    registrant: str
    inviter: str


class Drivers(_Strict):
    """``count`` drivers of ``emsp``, each with an RFID card ``DRV-{eMSP party}-{n}``."""

    emsp: str
    count: int = Field(ge=1, le=999)
    whitelist: Literal["NEVER", "ALLOWED_OFFLINE"] = "NEVER"


class AppDriver(_Strict):
    """A driver of ``emsp`` who starts and stops a charge at a station from the app."""

    cpo: str
    emsp: str
    prefix: str
    number: int = Field(ge=1, le=9999)
    ocpp: Literal["1.6", "2.0.1", "2.1"]
    location_id: str
    evse_uid: str
    token: str = Field(pattern=r"^[A-Z0-9-]{1,20}$")

    @property
    def station_id(self) -> str:
        return f"{self.prefix}{self.number:04d}"


class AdHoc(_Strict):
    """Charges paid at ``cpo``'s payment terminal: each with a one-time AD_HOC_USER token of
    the CPO's own (``prefix`` and a serial), no eMSP."""

    cpo: str
    prefix: str = Field(pattern=r"^[A-Z0-9-]{1,14}$")

    def token(self, serial: int) -> str:
        return f"{self.prefix}{serial:05d}"


class OfflineIncident(_Strict):
    cpo: str
    station: int = Field(ge=1)
    minutes: float = Field(gt=0)  # into the first charge
    offline_minutes: float = Field(gt=0)


class OutageIncident(_Strict):
    emsp: str


class TariffIncident(_Strict):
    cpo: str
    id: str
    price: str = Field(pattern=r"^[0-9]+(\.[0-9]+)?$")


class SilentIncident(_Strict):
    cpo: str


class Incidents(_Strict):
    offline: OfflineIncident
    outage: OutageIncident
    tariff: TariffIncident
    silent: SilentIncident


class DemoPlan(_Strict):
    about: _About
    deployments: list[DeploymentSpec]
    links: list[Link]
    drivers: list[Drivers]
    app: AppDriver
    adhoc: AdHoc
    incidents: Incidents

    def deployment(self, key: str) -> DeploymentSpec:
        for spec in self.deployments:
            if spec.key == key:
                return spec
        raise InvalidInputError(f"the demo plan names an unknown deployment {key!r}")

    def cpos(self) -> list[DeploymentSpec]:
        return [spec for spec in self.deployments if spec.is_cpo]

    def reaches(self, cpo: str, emsp: str) -> bool:
        """Whether ``cpo`` and ``emsp`` are linked, directly or through a hub both joined."""
        linked = {frozenset((link.registrant, link.inviter)) for link in self.links}
        if frozenset((cpo, emsp)) in linked:
            return True
        hubs = [d.key for d in self.deployments if d.parties[0].role == "HUB"]
        return any(
            frozenset((cpo, hub)) in linked and frozenset((emsp, hub)) in linked for hub in hubs
        )


def _data(name: str) -> str:
    return (resources.files("intercarga.sim") / "data" / "demo" / name).read_text(encoding="utf-8")


def load_plan() -> DemoPlan:
    """The region of ``data/demo/region.toml``, checked whole (every name it uses exists)."""
    try:
        plan = DemoPlan.model_validate(tomllib.loads(_data("region.toml")))
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise InvalidInputError(f"region.toml: {place}: {first['msg']}") from None
    for link in plan.links:
        plan.deployment(link.registrant), plan.deployment(link.inviter)
    for drivers in plan.drivers:
        plan.deployment(drivers.emsp)
    incidents = plan.incidents
    for key in (plan.app.cpo, plan.app.emsp, plan.adhoc.cpo, incidents.offline.cpo, incidents.outage.emsp,
                incidents.tariff.cpo, incidents.silent.cpo):  # fmt: skip
        plan.deployment(key)
    return plan


def card_uid(emsp: DeploymentSpec, number: int) -> str:
    """The RFID card of the eMSP's driver ``number`` (``DRV-MOV-0003``)."""
    return f"DRV-{emsp.parties[0].party_id}-{number:04d}"


@dataclass(frozen=True)
class Charge:
    """One charge the traffic plan holds: at which station, read from which token, how long."""

    cpo: str
    station: int
    uid: str  # the driver's card, or the terminal's one-time token
    issuer: str  # the driver's eMSP, or the CPO itself for a payment at its terminal
    kind: Literal["RFID", "AD_HOC_USER"]
    minutes: int


@dataclass(frozen=True)
class Traffic:
    """Every charge of a demo, drawn from its seed before anything runs.

    In each round every card-reading station is free; the drivers arrive in a seeded order, and
    each picks, by the seed, one of the free stations at a CPO its eMSP reaches (directly or
    through a hub), at home or abroad. At the ad hoc CPO each card charge is followed by a
    charge paid at the terminal with a one-time token. The counts the demo's summary must
    show are functions of this plan alone.
    """

    seed: int
    rounds: int
    charges: tuple[Charge, ...]
    socs: dict[tuple[str, int], int]  # each station's vehicles' state of charge on arrival

    def at(self, cpo: str, station: int) -> list[Charge]:
        return [c for c in self.charges if (c.cpo, c.station) == (cpo, station)]

    def drivers(self) -> list[tuple[str, str]]:
        """(eMSP, card) of every driver who charges, each once, in the plan's order."""
        return list(dict.fromkeys((c.issuer, c.uid) for c in self.charges if c.kind == "RFID"))

    def flows(self) -> dict[tuple[str, str], int]:
        """Card charges per (CPO, eMSP): the CDRs each roaming flow must deliver."""
        return dict(Counter((c.cpo, c.issuer) for c in self.charges if c.kind == "RFID"))

    def adhoc(self) -> int:
        return sum(1 for c in self.charges if c.kind == "AD_HOC_USER")

    def counts(self) -> dict[str, Any]:
        """The plan as the summary shows it (JSON): charges per flow, ad hoc, per station."""
        return {
            "seed": self.seed,
            "rounds": self.rounds,
            "charges": len(self.charges),
            "flows": {f"{cpo} → {emsp}": n for (cpo, emsp), n in sorted(self.flows().items())},
            "adhoc": self.adhoc(),
            "stations": {
                f"{cpo}/{station}": len(self.at(cpo, station)) for cpo, station in sorted(self.socs)
            },
        }


def rounds_for(duration: float, speed: float) -> int:
    """Rounds of charges that fit in ``duration`` real seconds at ``speed`` (a round is about
    an hour of simulated time at the busiest station: a card charge, a paid one, two rests)."""
    return max(1, round(duration * speed / 4000))


def plan_traffic(plan: DemoPlan, *, seed: int, rounds: int, stations: int | None) -> Traffic:
    """The seeded plan of every charge (see :class:`Traffic`): the same for the same inputs."""
    draw = random.Random(seed)
    numbers = {spec.key: _numbers(spec, stations) for spec in plan.cpos()}
    socs = {(cpo, n): draw.randint(15, 40) for cpo, found in numbers.items() for n in found}
    drivers = [
        (group.emsp, card_uid(plan.deployment(group.emsp), n))
        for group in plan.drivers
        for n in range(1, group.count + 1)
    ]
    charges: list[Charge] = []
    paid = 0
    for _ in range(rounds):
        free = sorted(socs)
        arriving = drivers[:]
        draw.shuffle(arriving)
        taken: dict[tuple[str, int], tuple[str, str]] = {}
        for emsp, uid in arriving:
            choices = [place for place in free if plan.reaches(place[0], emsp)]
            if not choices:
                continue
            place = draw.choice(choices)
            free.remove(place)
            taken[place] = (emsp, uid)
        for (cpo, station), (emsp, uid) in sorted(taken.items()):
            charges.append(Charge(cpo, station, uid, emsp, "RFID", draw.randint(20, 45)))
            if cpo == plan.adhoc.cpo:
                paid += 1
                token = plan.adhoc.token(paid)
                charges.append(
                    Charge(cpo, station, token, cpo, "AD_HOC_USER", draw.randint(15, 30))
                )
    return Traffic(seed, rounds, tuple(charges), socs)


def _numbers(spec: DeploymentSpec, stations: int | None) -> list[int]:
    """The card-reading stations of a CPO the demo runs (the first ``stations``, or all)."""
    numbers = [n for group in spec.stations for n in group.numbers()]
    return numbers[:stations] if stations else numbers


def _contract_id(party: PartySpec, serial: int) -> str:
    body = f"{party.country_code}{party.party_id}C{serial:08d}"
    check = iso_check_character(body)
    return f"{party.country_code}-{party.party_id}-C{serial:08d}-{check}"


@dataclass(frozen=True)
class DemoOptions:
    """What the operator of the demo chose on the command line."""

    folder: Path
    speed: float = 300.0  # simulated seconds per real second
    seed: int = 1
    stations: int | None = None  # RFID stations per CPO; None: all the plan has
    duration: float = 240.0  # real seconds of traffic
    outage: float = 60.0  # real seconds the eMSP of the outage is down
    database: str | None = None  # postgresql://…: one schema per party instead of SQLite

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise InvalidInputError("--speed must be positive")
        if self.stations is not None and self.stations < 1:
            raise InvalidInputError("--stations must be at least 1")
        if self.duration < 30:
            raise InvalidInputError("--duration must be at least 30 seconds")
        if not 0 < self.outage <= self.duration / 2:
            raise InvalidInputError("--outage must be positive and at most half of --duration")
        if self.database is not None and not self.database.startswith(
            ("postgresql://", "postgresql+asyncpg://")
        ):
            raise InvalidInputError("--database must be a postgresql:// URL")


@dataclass
class PartyStatus:
    """One deployment as its admin API shows it right now."""

    key: str
    title: str
    up: bool = False
    stations_online: int = 0
    stations: int = 0
    sessions_active: int = 0
    sessions: int = 0
    cdrs: int = 0
    cdrs_by_currency: dict[str, int] = field(default_factory=dict)
    push_pending: int = 0
    push_failed: int = 0
    partners: int = 0
    silent: list[str] = field(default_factory=list)  # an access point's silent CPOs


class DemoError(IntercargaError):
    """The demo could not set up its region (the message says which party and what)."""


@dataclass
class _Fleet:
    """One simulated station (the simulator's :class:`Fleet` of one), playing on the stations'
    thread."""

    cpo: str
    name: str
    stations: int
    fleet: Fleet
    playing: asyncio.Task[dict[str, Any]]
    offline: bool = False  # loses its connection on purpose: messages in flight then fail
    planned: bool = True  # plays the plan's charges and ends; else runs until stopped

    @property
    def done(self) -> bool:
        return self.playing.done()

    def result(self) -> dict[str, Any]:
        """The simulator's summary of the station: sessions, messages, failures."""
        return self.fleet.summary()


class _StationsThread:
    """The simulated stations of the demo, all in one asyncio loop on a thread of this process
    (the simulator as a library): no process to start per station, none to outlive the demo.
    The thread only runs the loop; everything else talks to it through thread-safe calls."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="demo-stations", daemon=True
        )
        self._thread.start()

    def play(self, fleet: Fleet) -> asyncio.Task[dict[str, Any]]:
        async def start() -> asyncio.Task[dict[str, Any]]:
            return asyncio.create_task(fleet.run(), name="demo-station")

        return asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=30)

    def cancel(self, playing: asyncio.Task[dict[str, Any]], seconds: float) -> None:
        """Stop a station as Ctrl-C stops ``intercarga simulate`` (a charge under way is cut
        and makes no CDR; the station shuts down), and wait for it."""

        async def cancel() -> None:
            playing.cancel()
            await asyncio.gather(playing, return_exceptions=True)

        # Past the time, the station's socket closes with the loop when the demo ends.
        with contextlib.suppress(concurrent.futures.TimeoutError):
            asyncio.run_coroutine_threadsafe(cancel(), self._loop).result(timeout=seconds)

    def close(self, seconds: float = 10) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=seconds)
        if not self._thread.is_alive():
            self._loop.close()


# The access point pulls every CPO every 3 s and wants to hear from each within 12 s, so that a
# CPO that goes quiet is flagged within seconds (Colombia's real window is 60 s).
_NAP_SETTINGS = (
    "[registry]",
    "pull_interval = 3",
    "rules = { CL = { status_window_s = 12 }, CO = { status_window_s = 12 }, "
    "BR = { status_window_s = 12 } }",
)
# A push that failed is tried again within 3 s at most, so that the backlog of an eMSP's
# outage drains within seconds of its return, not at the default backoff's ten minutes.
_OCPI_SETTINGS = ("push_retry_max = 3",)
_IDLE_SECONDS = 10**7  # a scenario's wait that outlasts any --duration
# The live table's refresh: each asks every party's whole status, which is work for them.
_TICK_S = 2.0


class Demo:
    """Sets up the region, runs its traffic and incidents, reports, and stops everything."""

    def __init__(self, plan: DemoPlan, options: DemoOptions) -> None:
        self.plan = plan
        self.options = options
        self.deployments: dict[str, Deployment] = {}
        self.timeline: list[dict[str, Any]] = []
        self.incidents: dict[str, dict[str, Any]] = {}
        self.app: dict[str, Any] = {}
        self._failures: list[str] = []
        self._fleets: list[_Fleet] = []
        self._stations: _StationsThread | None = None
        # A party down at the end (the silent CPO): its status and CDRs as it last showed them.
        self._last_shown: dict[str, tuple[PartyStatus, list[dict[str, Any]]]] = {}
        self._began = time.monotonic()
        self.traffic = plan_traffic(
            plan,
            seed=options.seed,
            rounds=rounds_for(options.duration, options.speed),
            stations=options.stations,
        )

    # -- set-up ---------------------------------------------------------------------------------

    def create(self, progress: Callable[[str], None]) -> None:
        """Each deployment's folder and configuration; each CPO's network file, which its
        server loads at its first start."""
        if self.options.folder.exists() and any(self.options.folder.iterdir()):
            raise InvalidInputError(
                f"{self.options.folder} is not empty: the demo needs a new folder"
            )
        if self.options.database is not None:
            progress("creating a schema per party in PostgreSQL")
            schemas = [_schema(s.key) for s in self.plan.deployments]
            try:
                asyncio.run(recreate_schemas(_asyncpg_url(self.options.database), schemas))
            except StorageError as error:
                raise DemoError(f"--database: {error}") from None
        for spec in self.plan.deployments:
            progress(f"creating {spec.key}")
            extra: list[str] = []
            database_url = None
            if self.options.database is not None:
                database_url = _asyncpg_url(self.options.database)
                extra.append(f'database_schema = "{_schema(spec.key)}"')
            if spec.parties[0].role == "NAP":
                extra += _NAP_SETTINGS
            network = self.options.folder.absolute() / spec.key / (spec.network or "")
            if spec.network is not None:
                # Seeded by the CPO's own server (`seed_network`): no process of its own.
                extra.append(f'seed_network = "{network}"')
            deployment = Deployment.create(
                self.options.folder / spec.key,
                [OcpiParty(p.country_code, p.party_id, p.role, p.name) for p in spec.parties],
                versions=spec.versions,
                extra=extra,
                ocpi_extra=_OCPI_SETTINGS,
                database_url=database_url,
            )
            if spec.network is not None:
                network.write_text(_data(spec.network), encoding="utf-8")
            self.deployments[spec.key] = deployment

    def start(self, progress: Callable[[str], None]) -> None:
        """Every deployment started and answering ``/healthz``.

        All together rather than a few at a time: a start is mostly one core's work (imports,
        migrations), so on a machine of several cores, or one shared with other work, the
        region is up sooner when every start runs at once.
        """
        progress("starting " + ", ".join(self.deployments))
        # Launched from this thread: a child dies with the thread that started it.
        for deployment in self.deployments.values():
            deployment.launch()
        for deployment in self.deployments.values():
            deployment.wait_until_up(300)

    def register(self, progress: Callable[[str], None]) -> None:
        """The plan's links, each through the OCPI credentials handshake from a TOKEN_A."""
        for link in self.plan.links:
            progress(f"{link.registrant} registers with {link.inviter}")
            self.deployments[link.registrant].register_over_api(self.deployments[link.inviter])

    def prepare(self, progress: Callable[[str], None]) -> None:
        """Station passwords at the CPOs; the drivers' cards and the app user at their eMSPs;
        the terminal's one-time tokens at its CPO."""
        app = self.plan.app
        for spec in self.plan.cpos():
            cpo = self.deployments[spec.key]
            progress(f"{spec.key}: station passwords")
            station_ids = [self._station_id(spec, n) for n in _numbers(spec, self.options.stations)]
            if spec.key == app.cpo:
                station_ids.append(app.station_id)
            with cpo.api() as api:
                for station_id in station_ids:
                    station = _ok(api.get(f"/api/v1/stations/{station_id}"), spec.key).json()
                    station.pop("connection", None)
                    station["password"] = STATION_PASSWORD
                    _ok(api.put(f"/api/v1/stations/{station_id}", json=station), spec.key)
        whitelists = {group.emsp: group.whitelist for group in self.plan.drivers}
        tokens: list[tuple[str, str, str, str]] = [  # (issuer, uid, type, whitelist)
            (emsp, uid, "RFID", whitelists[emsp]) for emsp, uid in self.traffic.drivers()
        ]
        tokens.append((app.emsp, app.token, "APP_USER", "NEVER"))
        # The terminal's one-time tokens are the CPO's own: its stations accept each without
        # asking anyone (ALWAYS), and each pays for one charge.
        tokens += [
            (c.issuer, c.uid, c.kind, "ALWAYS")
            for c in self.traffic.charges
            if c.kind == "AD_HOC_USER"
        ]
        progress(f"issuing {len(tokens)} tokens")
        for serial, (issuer, uid, kind, whitelist) in enumerate(tokens, start=1):
            self._issue(issuer, uid, kind, whitelist, serial)
        progress("waiting for the cards to reach the CPOs")
        self._wait_for_cards()

    def _issue(self, issuer: str, uid: str, kind: str, whitelist: str, serial: int) -> None:
        """A token ``issuer`` issued, put at it (an eMSP pushes it to its CPOs)."""
        party = self.plan.deployment(issuer).parties[0]
        token = {
            "country_code": party.country_code,
            "party_id": party.party_id,
            "uid": uid,
            "type": kind,
            "contract_id": _contract_id(party, serial),
            "issuer": party.name,
            "whitelist": whitelist,
        }
        path = f"/api/v1/tokens/{party.country_code}/{party.party_id}/{uid}"
        with self.deployments[issuer].api() as api:
            _ok(api.put(path, json=token), issuer)

    def _wait_for_cards(self, seconds: float = 60) -> None:
        """Each CPO holds the tokens its planned charges read (pushed by the eMSPs, some via
        the hub)."""
        deadline = time.monotonic() + seconds
        wanted = {(c.cpo, c.issuer, c.uid) for c in self.traffic.charges if c.kind == "RFID"}
        wanted.add((self.plan.app.cpo, self.plan.app.emsp, self.plan.app.token))
        for cpo, owner, uid in sorted(wanted):
            party = self.plan.deployment(owner).parties[0]
            path = f"/api/v1/tokens/{party.country_code}/{party.party_id}/{uid}"
            with self.deployments[cpo].api() as api:
                while api.get(path).status_code != 200:
                    if time.monotonic() > deadline:
                        raise DemoError(
                            f"{cpo} did not receive token {uid} from {owner} in {seconds:g} s"
                        )
                    time.sleep(0.2)

    @staticmethod
    def _station_id(spec: DeploymentSpec, number: int) -> str:
        [prefix] = {group.prefix for group in spec.stations}
        return f"{prefix}{number:04d}"

    # -- traffic --------------------------------------------------------------------------------

    def _scenario(self, spec: DeploymentSpec, group: StationGroup, number: int) -> str:
        """The station's planned charges, one after the other, then the end of its fleet; the
        offline station loses its connection during its first charge and charges on."""
        charges = self.traffic.at(spec.key, number)
        offline = self.plan.incidents.offline
        lost = (spec.key, number) == (offline.cpo, offline.station)
        soc = self.traffic.socs[(spec.key, number)]
        what = "the plan's charges" + (", the first with a connection loss" if lost else "")
        steps = ["boot"]
        for index, charge in enumerate(charges):
            tag = f"{{id_tag: {charge.uid}}}"
            steps += ["plug_in", f"authorize: {tag}", f"start: {tag}"]
            if lost and index == 0:
                # It queues its events while offline and replays them when it is back.
                steps += [
                    f"charge: {{minutes: {offline.minutes:g}}}",
                    f"disconnect: {{seconds: {offline.offline_minutes * 60:g}, wait: false}}",
                    f"charge: {{minutes: {offline.offline_minutes + 10:g}}}",
                ]
            else:
                steps.append(f"charge: {{minutes: {charge.minutes}}}")
            steps += ["stop: {reason: Local}", "unplug", "wait: {seconds: 300}"]
        return (
            self._header(spec, group.current, soc, what)
            + "repeat: 1\nsteps:\n"
            + "".join(f"  - {step}\n" for step in steps)
        )

    def _app_scenario(self, spec: DeploymentSpec) -> str:
        """A station that only boots and waits: its charge starts and stops from the app."""
        return self._header(spec, "AC", 30, "charges started from the driver's app") + (
            f"repeat: 1\nsteps:\n  - boot\n  - wait: {{seconds: {_IDLE_SECONDS}}}\n"
        )

    def _header(self, spec: DeploymentSpec, current: str, soc: int, what: str) -> str:
        # Meter values every five simulated minutes: at 300× one a second per station, which
        # every party keeps up with (each value is a session update pushed to the eMSP); every
        # minute was five a second, a backlog on a busy machine.
        kw = "150" if current == "DC" else "22"
        return (
            f"name: demo-{spec.key}\n"
            f"description: {what}\n"
            f"station: {{evses: 1, current: {current}, max_kw: {kw}, meter_interval: 300}}\n"
            f"vehicle: {{battery_kwh: 60, soc: {soc}}}\n"
        )

    def start_traffic(self) -> None:
        """The simulated stations: an ``intercarga simulate`` process per station with charges
        in the plan (each its own list), and the app's station."""
        offline = self.plan.incidents.offline
        for spec in self.plan.cpos():
            wanted = set(_numbers(spec, self.options.stations))
            for group in spec.stations:
                for number in group.numbers():
                    if number not in wanted or not self.traffic.at(spec.key, number):
                        continue
                    lost = (spec.key, number) == (offline.cpo, offline.station)
                    scenario = self._scenario(spec, group, number)
                    self._fleet(spec, group.ocpp, group.prefix, number, scenario, offline=lost)
        app = self.plan.app
        spec = self.plan.deployment(app.cpo)
        self._fleet(spec, app.ocpp, app.prefix, app.number, self._app_scenario(spec), planned=False)

    def _fleet(
        self,
        spec: DeploymentSpec,
        ocpp: str,
        prefix: str,
        number: int,
        scenario: str,
        *,
        offline: bool = False,
        planned: bool = True,
    ) -> None:
        cpo = self.deployments[spec.key]
        name = f"{prefix}{number:04d}"
        # The scenario also in the CPO's folder: what the station does, for the operator to
        # read (or to replay with `intercarga simulate --scenario`).
        path = cpo.folder / f"scenario-{name}.yaml"
        path.write_text(scenario, encoding="utf-8")
        fleet = Fleet(
            FleetConfig(
                url=cpo.ocpp_url, version=OcppVersion(f"ocpp{ocpp}"), password=STATION_PASSWORD,
                id_prefix=prefix, first=number, speed=self.options.speed,
                scenario=parse_scenario(scenario),
            )
        )  # fmt: skip
        if self._stations is None:
            self._stations = _StationsThread()
        playing = self._stations.play(fleet)
        self._fleets.append(_Fleet(spec.key, name, 1, fleet, playing, offline, planned))

    def _online(self) -> int:
        """How many of the simulated stations their CPOs show connected (one request each: the
        parties' full status is too much to ask twice a second)."""
        online = 0
        for fleet in self._fleets:
            with self.deployments[fleet.cpo].api(timeout=5) as api:
                shown = api.get(f"/api/v1/stations/{fleet.name}/connection")
                online += shown.is_success and bool(shown.json().get("connected"))
        return online

    def end_traffic(self, seconds: float = 30) -> None:
        """Every station still playing stopped as by Ctrl-C, and awaited; a charge under way is
        cut, and makes no CDR."""
        if self._stations is None:
            return
        for fleet in self._fleets:
            if not fleet.done:
                self._stations.cancel(fleet.playing, seconds)

    @property
    def elapsed(self) -> float:
        """Real seconds since the traffic began."""
        return time.monotonic() - self._began

    def run(self, tick: Callable[[], None]) -> None:
        """The traffic and the incidents on their schedule, then delivery; ``tick`` is called
        every two seconds meanwhile (the live table).

        What fails (a party not answering, an incident not happening) is noted for the summary
        rather than ending the demo: the summary is the demo's verdict.
        """
        self.start_traffic()
        # The schedule's clock starts when every simulated station is connected: on a busy
        # machine the fleets take a while to start, and the incidents need the traffic.
        simulated = sum(fleet.stations for fleet in self._fleets)
        if not self._wait(lambda: self._online() >= simulated, 180, tick):
            self._failures.append(f"only {self._online()} of {simulated} stations connected")
        self._began = time.monotonic()
        self._note(f"{simulated} stations connected; the schedule starts")
        duration = self.options.duration
        self._attempt("app START_SESSION", lambda: self._app_start(tick))
        self._until(duration * 0.25, tick)
        self._attempt("eMSP outage", lambda: self._outage(tick))
        self._attempt("app STOP_SESSION", lambda: self._app_stop(tick))
        self._until(duration, tick)
        # The plan's charges finish (a loaded machine plays them slower than the clock says);
        # a charge cut short would make no CDR, and the counts would no longer be the plan's.
        planned = [fleet for fleet in self._fleets if fleet.planned]
        if not self._wait(
            lambda: all(fleet.done for fleet in planned),
            max(60.0, duration),
            tick,
        ):
            left = sum(1 for fleet in planned if not fleet.done)
            self._failures.append(f"{left} station(s) had not played their charges by the end")
        self.end_traffic()
        self._note("traffic ends")
        self.wait_for_delivery(tick)
        self._note("delivered")
        self._attempt("silent CPO", lambda: self._silent(tick))

    def _note(self, event: str) -> None:
        self.timeline.append({"at_s": round(self.elapsed, 1), "event": event})

    def _attempt(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except (IntercargaError, httpx.HTTPError, KeyError, ValueError) as error:
            self._failures.append(f"{what}: {error}")
            self._note(f"{what} failed: {error}")

    def _until(self, at: float, tick: Callable[[], None]) -> None:
        """Wait until ``at`` real seconds after the traffic began."""
        while (left := at - self.elapsed) > 0:
            tick()
            time.sleep(min(_TICK_S, left))

    def _wait(self, done: Callable[[], bool], seconds: float, tick: Callable[[], None]) -> bool:
        """Until ``done()`` (True) or ``seconds`` passed (False)."""
        deadline = time.monotonic() + seconds
        last_tick = 0.0
        while True:
            try:
                if done():
                    return True
            except (IntercargaError, httpx.HTTPError, KeyError, ValueError):
                pass  # a party restarting, or too busy to answer in time: asked again
            if time.monotonic() > deadline:
                return False
            if time.monotonic() - last_tick >= _TICK_S:
                tick()
                last_tick = time.monotonic()
            time.sleep(0.5)

    # -- the app driver ---------------------------------------------------------------------------

    def _command(self, **body: str) -> dict[str, Any]:
        app = self.plan.app
        cpo = self.plan.deployment(app.cpo).parties[0]
        request = {"country_code": cpo.country_code, "party_id": cpo.party_id, **body}
        with self.deployments[app.emsp].api() as api:
            sent: dict[str, Any] = _ok(
                api.post("/api/v1/roaming/commands", json=request), app.emsp
            ).json()
        return sent

    def _app_start(self, tick: Callable[[], None]) -> None:
        app = self.plan.app
        with self.deployments[app.cpo].api() as cpo:
            if not self._wait(
                lambda: bool(
                    cpo.get(f"/api/v1/stations/{app.station_id}/connection").json()["connected"]
                ),
                120,
                tick,
            ):
                raise DemoError(f"{app.station_id} did not connect to {app.cpo} in 120 s")
        sent = self._command(
            command="START_SESSION", token_uid=app.token, location_id=app.location_id,
            evse_uid=app.evse_uid, connector_id="1",
        )  # fmt: skip
        self.app["start_command"] = sent["id"]
        self._note(f"{app.emsp} sends START_SESSION for {app.token} at {app.station_id}")
        with self.deployments[app.emsp].api() as emsp:

            def active() -> bool:
                shown = emsp.get(
                    "/api/v1/sessions", params={"token": app.token, "status": "ACTIVE"}
                )
                items = shown.json()["items"]
                if items:
                    self.app["session"] = items[0]["id"]
                return bool(items)

            if not self._wait(active, 90, tick):
                raise DemoError(f"{app.emsp} saw no active session for {app.token} in 90 s")
        self._note(f"{app.emsp} sees session {self.app['session']} active")

    def _app_stop(self, tick: Callable[[], None]) -> None:
        if "session" not in self.app:
            return
        sent = self._command(command="STOP_SESSION", session_id=self.app["session"])
        self.app["stop_command"] = sent["id"]
        emsp = self.plan.app.emsp
        self._note(f"{emsp} sends STOP_SESSION for {self.app['session']}")
        # The charge ends at the station and its CDR reaches the eMSP before the traffic may
        # end (ending it stops the app's station).
        with self.deployments[emsp].api() as api:

            def priced() -> bool:
                shown = api.get("/api/v1/cdrs", params={"session_id": self.app["session"]})
                return bool(shown.json()["items"])

            if not self._wait(priced, 90, tick):
                raise DemoError(f"{emsp} holds no CDR for {self.app['session']} after 90 s")
        self._note(f"{emsp} holds the CDR of {self.app['session']}")

    # -- incidents ------------------------------------------------------------------------------

    def _outage(self, tick: Callable[[], None]) -> None:
        """The eMSP's server down for ``--outage`` seconds; meanwhile a CPO changes a tariff."""
        key = self.plan.incidents.outage.emsp
        emsp = self.deployments[key]
        self._take_down(key)
        down = time.monotonic()
        self._note(f"{key} goes down for {self.options.outage:g} s")
        self._attempt("tariff change", self._change_tariff)
        self._until(self.elapsed + self.options.outage, tick)
        waiting = sum(
            status.push_pending
            for status in self.status()
            if self.plan.deployment(status.key).is_cpo and self.plan.reaches(status.key, key)
        )
        emsp.launch()
        emsp.wait_until_up(300)
        self.incidents["outage"] = {
            "emsp": key,
            "down_s": round(time.monotonic() - down),
            "waiting_at_return": waiting,
        }
        self._note(f"{key} is back; {waiting} push(es) were waiting for it at the CPOs")

    def _take_down(self, key: str) -> None:
        """A party's server stopped as a service manager does; on a busy machine its exit can
        take tens of seconds after it has stopped serving, and one killed then is as down."""
        try:
            self.deployments[key].stop(timeout=60)
        except DeploymentError as error:
            self._note(f"{key} killed: {error}")

    def _tariff_path(self) -> str:
        change = self.plan.incidents.tariff
        party = self.plan.deployment(change.cpo).parties[0]
        return f"/api/v1/tariffs/{party.country_code}/{party.party_id}/{change.id}"

    def _change_tariff(self) -> None:
        change = self.plan.incidents.tariff
        with self.deployments[change.cpo].api() as api:
            tariff = _ok(api.get(self._tariff_path()), change.cpo).json()
            for element in tariff["elements"]:
                for component in element["price_components"]:
                    if component["type"] == "ENERGY":
                        component["price"] = change.price
            tariff.pop("last_updated", None)
            _ok(api.put(self._tariff_path(), json=tariff), change.cpo)
        self._note(f"{change.cpo} sets {change.id}'s energy price to {change.price}")

    def _silent(self, tick: Callable[[], None]) -> None:
        """The CPO's server down, after the traffic, until the access point flags it silent; it
        stays down (the demo is ending), its numbers read just before it went."""
        key = self.plan.incidents.silent.cpo
        spec = self.plan.deployment(key)
        party = spec.parties[0]
        subject = f"{party.country_code}-{party.party_id}"
        # Nothing it holds changes while it is down: the summary uses what it showed last.
        self._last_shown[key] = (self._status(spec), self.cdrs(key))
        self._take_down(key)
        down = time.monotonic()
        self._note(f"{key} stops reporting")
        flagged = self._wait(lambda: subject in self.silent_at_access_points(), 120, tick)
        after = round(time.monotonic() - down)
        others = sorted(set(self.silent_at_access_points()) - {subject}) if flagged else []
        self.incidents["silent"] = {"cpo": key, "flagged": flagged, "after_s": after,
                                    "others_flagged": others}  # fmt: skip
        self._note(f"access point flags {subject} silent" if flagged else "no flag in 120 s")

    def silent_at_access_points(self) -> list[str]:
        """The CPOs (``CO-VOL``) every access point of the region flags silent right now."""
        found: list[str] = []
        for spec in self.plan.deployments:
            deployment = self.deployments.get(spec.key)
            if spec.parties[0].role != "NAP" or deployment is None or not deployment.running:
                continue
            with deployment.api(timeout=5) as api:
                flags = _ok(api.get("/api/v1/registry/flags"), spec.key).json()
            found += [f["subject"] for f in flags if f["rule"] == "silent" and f["level"] == "CPO"]
        return found

    def wait_for_delivery(
        self, tick: Callable[[], None] = lambda: None, seconds: float = 90
    ) -> None:
        """Until no party has a push pending (or ``seconds`` passed)."""
        self._wait(lambda: self._pending() == 0, seconds, tick)

    def _pending(self) -> int:
        """Pushes waiting in the parties' outboxes (a party down or not answering counts as
        one: what it holds is unknown)."""
        pending = 0
        for deployment in self.deployments.values():
            if not deployment.running:
                pending += 1
                continue
            with deployment.api(timeout=5) as api:
                partners = _ok(api.get("/api/v1/partners"), deployment.name).json()
            pending += sum(partner["outbox"]["pending"] for partner in partners)
        return pending

    # -- what the parties show ------------------------------------------------------------------

    def status(self) -> list[PartyStatus]:
        """Each party's numbers, read from its admin API (a party not answering shows down)."""
        return [self._status(spec) for spec in self.plan.deployments]

    def _status(self, spec: DeploymentSpec) -> PartyStatus:
        status = PartyStatus(spec.key, spec.title)
        deployment = self.deployments.get(spec.key)
        if deployment is None or not deployment.running:
            return status
        try:
            with deployment.api(timeout=5) as api:
                stations = api.get("/api/v1/stations", params={"limit": 500}).json()["items"]
                status.stations = len(stations)
                for station in stations:
                    shown = api.get(f"/api/v1/stations/{station['id']}/connection")
                    if shown.is_success and shown.json().get("connected"):
                        status.stations_online += 1
                status.sessions = _total(api, "/api/v1/sessions")
                status.sessions_active = _total(api, "/api/v1/sessions", status="ACTIVE")
                cdrs = api.get("/api/v1/cdrs", params={"limit": 500}).json()["items"]
                status.cdrs = len(cdrs)
                status.cdrs_by_currency = dict(Counter(cdr["currency"] for cdr in cdrs))
                partners = api.get("/api/v1/partners").json()
                status.partners = len(partners)
                status.push_pending = sum(p["outbox"]["pending"] for p in partners)
                status.push_failed = sum(p["outbox"]["failed"] for p in partners)
                if spec.parties[0].role == "NAP":
                    flags = api.get("/api/v1/registry/flags").json()
                    status.silent = [
                        f["subject"] for f in flags if f["rule"] == "silent" and f["level"] == "CPO"
                    ]
                status.up = True
        except (httpx.HTTPError, KeyError, ValueError):
            status.up = False
        return status

    def cdrs(self, key: str) -> list[dict[str, Any]]:
        """Every CDR a party holds (its own as a CPO, its drivers' as an eMSP)."""
        with self.deployments[key].api() as api:
            found: list[dict[str, Any]] = []
            offset = 0
            while True:
                page = api.get("/api/v1/cdrs", params={"limit": 500, "offset": offset}).json()
                found += page["items"]
                offset += len(page["items"])
                if not page["items"] or offset >= page["total"]:
                    return found

    def summary(self) -> dict[str, Any]:
        """Per party and per roaming flow (CPO → eMSP): counts and failures.

        A flow's CDRs are those the CPO made for the eMSP's drivers; ``planned`` how many the
        traffic plan holds, ``delivered`` how many of them the eMSP holds, ``duplicated`` any
        the eMSP holds more than once. Each party's sessions and CDRs are checked against the
        plan's: for the same seed and options, the same numbers.
        """
        parties = {s.key: s for s in self.status()}
        flows: list[dict[str, Any]] = []
        failures: list[str] = []
        shown: dict[str, list[dict[str, Any]]] = {}
        for spec in self.plan.deployments:
            if (spec.is_cpo or spec.parties[0].role == "EMSP") and self.deployments[
                spec.key
            ].running:
                try:
                    shown[spec.key] = self.cdrs(spec.key)
                except (httpx.HTTPError, KeyError, ValueError) as error:
                    # Stopping (Ctrl-C reaches every process of the terminal at once).
                    failures.append(f"{spec.key}: its CDRs could not be read: {error}")
        for key, (status, cdrs) in self._last_shown.items():
            if not self.deployments[key].running:
                parties[key], shown[key] = status, cdrs
        held = {
            key: Counter(cdr["id"] for cdr in cdrs)
            for key, cdrs in shown.items()
            if self.plan.deployment(key).parties[0].role == "EMSP"
        }
        planned_flows = self.planned_flows()
        for spec in self.plan.deployments:
            if not spec.is_cpo or spec.key not in shown:
                continue
            by_owner: dict[str, list[dict[str, Any]]] = {
                emsp: [] for cpo, emsp in planned_flows if cpo == spec.key
            }
            for cdr in shown[spec.key]:
                token = cdr["cdr_token"]
                for emsp in self.plan.deployments:
                    party = emsp.parties[0]
                    if party.role == "EMSP" and (party.country_code, party.party_id) == (
                        token["country_code"],
                        token["party_id"],
                    ):
                        by_owner.setdefault(emsp.key, []).append(cdr)
            for emsp_key, made in sorted(by_owner.items()):
                at_emsp = held.get(emsp_key, Counter())
                delivered = sum(1 for cdr in made if at_emsp[cdr["id"]] >= 1)
                duplicated = sum(1 for cdr in made if at_emsp[cdr["id"]] > 1)
                currencies = sorted({cdr["currency"] for cdr in made})
                planned = planned_flows.get((spec.key, emsp_key), 0)
                flows.append(
                    {
                        "cpo": spec.key,
                        "emsp": emsp_key,
                        "planned": planned,
                        "cdrs": len(made),
                        "delivered": delivered,
                        "duplicated": duplicated,
                        "currencies": currencies,
                    }
                )
                if len(made) != planned:
                    failures.append(
                        f"{spec.key} → {emsp_key}: {len(made)} CDR(s) made, {planned} planned"
                    )
                if delivered < len(made):
                    failures.append(f"{spec.key} → {emsp_key}: {len(made) - delivered} CDR(s) lost")
                if duplicated:
                    failures.append(f"{spec.key} → {emsp_key}: {duplicated} CDR(s) duplicated")
        for key, wanted in self.planned_parties().items():
            status = parties[key]
            found = {"sessions": status.sessions, "cdrs": status.cdrs}
            if status.up and found != wanted:
                failures.append(f"{key}: {found} where the plan makes {wanted}")
        for status in parties.values():
            if status.push_failed:
                failures.append(f"{status.key}: {status.push_failed} push(es) failed")
        fleets: list[dict[str, Any]] = []
        for fleet in self._fleets:
            result = fleet.result()
            messages = result["messages"]
            fleets.append({
                "cpo": fleet.cpo, "station": fleet.name, "sessions": result["sessions"],
                "sent": messages["sent"], "errors": messages["errors"],
                "failures": result["failures"],
            })  # fmt: skip
            # A station that loses its connection on purpose loses the messages in flight.
            lost = messages["errors"] and not (fleet.offline and not result["failed_stations"])
            if result["failed_stations"] or lost:
                failures.append(
                    f"{fleet.cpo}: simulated station {fleet.name} failed: "
                    + "; ".join(result["failures"] or [f"{messages['errors']} message error(s)"])
                )
        failures += self._failures
        incidents = dict(self.incidents)
        for name, check in (
            ("offline", self._check_offline),
            ("tariff", self._check_tariff),
            ("app", self._check_app),
            ("adhoc", self._check_adhoc),
        ):
            try:
                incidents[name] = check()
            except (IntercargaError, httpx.HTTPError, KeyError, ValueError) as error:
                incidents[name] = {"error": str(error)}
        failures += _incident_failures(incidents)
        return {
            "seed": self.options.seed,
            "plan": self.traffic.counts(),
            "parties": {
                key: {
                    "title": s.title,
                    "stations": s.stations,
                    "sessions": s.sessions,
                    "cdrs": s.cdrs,
                    "cdrs_by_currency": s.cdrs_by_currency,
                    "partners": s.partners,
                    "push_pending": s.push_pending,
                    "push_failed": s.push_failed,
                }
                for key, s in parties.items()
            },
            "flows": flows,
            "stations": fleets,
            "app": incidents.pop("app"),
            "adhoc": incidents.pop("adhoc"),
            "incidents": incidents,
            "timeline": self.timeline,
            "failures": failures,
        }

    def planned_flows(self) -> dict[tuple[str, str], int]:
        """The CDRs each roaming flow (CPO, eMSP) must deliver: the plan's card charges and
        the app driver's one charge."""
        flows = Counter(self.traffic.flows())
        flows[(self.plan.app.cpo, self.plan.app.emsp)] += 1
        return dict(flows)

    def planned_parties(self) -> dict[str, dict[str, int]]:
        """The sessions and CDRs each CPO and eMSP must hold at the end (the plan's charges,
        the app's included; a hub and an access point keep none)."""
        found: dict[str, dict[str, int]] = {}
        app = self.plan.app
        for spec in self.plan.deployments:
            role = spec.parties[0].role
            if role == "CPO":
                count = sum(1 for c in self.traffic.charges if c.cpo == spec.key)
                count += spec.key == app.cpo
            elif role == "EMSP":
                count = sum(
                    1 for c in self.traffic.charges if c.kind == "RFID" and c.issuer == spec.key
                )
                count += spec.key == app.emsp
            else:
                count = 0
            found[spec.key] = {"sessions": count, "cdrs": count}
        return found

    def _check_offline(self) -> dict[str, Any]:
        """The offline station's first session as its CPO holds it: complete, with the meter
        values it queued while offline (no gap as long as the connection loss)."""
        incident = self.plan.incidents.offline
        spec = self.plan.deployment(incident.cpo)
        station = self._station_id(spec, incident.station)
        found: dict[str, Any] = {"station": station, "offline_s": incident.offline_minutes * 60}
        if not self.traffic.at(incident.cpo, incident.station):
            return {**found, "skipped": "the station has no charge in the plan"}
        with self.deployments[incident.cpo].api() as api:
            shown = _ok(
                api.get("/api/v1/sessions", params={"station": station, "limit": 500}), incident.cpo
            )
        sessions = sorted(shown.json()["items"], key=lambda item: str(item["start_date_time"]))
        if not sessions:
            return {**found, "session": None}
        first = sessions[0]
        stamps = sorted(
            datetime.fromisoformat(value["timestamp"])
            for value in first["meter_values"]
            if str(value["measurand"]).startswith("Energy.Active.Import")
        )
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
        return {
            **found,
            "session": first["id"],
            "status": first["status"],
            "meter_values": len(stamps),
            "covers_s": (stamps[-1] - stamps[0]).total_seconds() if stamps else 0,
            "largest_gap_s": max(gaps, default=None),
        }

    def _check_tariff(self) -> dict[str, Any]:
        """The changed tariff's energy price at every eMSP the CPO reaches."""
        change = self.plan.incidents.tariff
        prices: dict[str, list[str]] = {}
        for spec in self.plan.deployments:
            if spec.parties[0].role != "EMSP" or not self.plan.reaches(change.cpo, spec.key):
                continue
            with self.deployments[spec.key].api() as api:
                shown = api.get(self._tariff_path())
            prices[spec.key] = (
                sorted(
                    {
                        str(component["price"])
                        for element in shown.json()["elements"]
                        for component in element["price_components"]
                        if component["type"] == "ENERGY"
                    }
                )
                if shown.is_success
                else []
            )
        reached = sorted(
            key for key, found in prices.items()
            if [Decimal(p) for p in found] == [Decimal(change.price)]
        )  # fmt: skip
        return {"cpo": change.cpo, "tariff": change.id, "price": change.price,
                "at_emsps": prices, "reached": reached}  # fmt: skip

    def _check_adhoc(self) -> dict[str, Any]:
        """The CDRs of the payment terminal's charges: at the CPO, each under its own one-time
        token."""
        adhoc = self.plan.adhoc
        party = self.plan.deployment(adhoc.cpo).parties[0]
        made = [
            cdr
            for cdr in self.cdrs(adhoc.cpo)
            if cdr["cdr_token"]["uid"].startswith(adhoc.prefix)
            and (cdr["cdr_token"]["country_code"], cdr["cdr_token"]["party_id"])
            == (party.country_code, party.party_id)
        ]
        return {
            "cpo": adhoc.cpo,
            "planned": self.traffic.adhoc(),
            "cdrs": len(made),
            "tokens": len({cdr["cdr_token"]["uid"] for cdr in made}),
            "types": sorted({str(cdr["cdr_token"]["type"]) for cdr in made}),
            "currency": sorted({cdr["currency"] for cdr in made}),
        }

    def _check_app(self) -> dict[str, Any]:
        """The app's commands as the eMSP recorded them, and the session's CDR at the eMSP."""
        app = self.plan.app
        found: dict[str, Any] = {"emsp": app.emsp, "cpo": app.cpo, "token": app.token,
                                 "session": self.app.get("session")}  # fmt: skip
        with self.deployments[app.emsp].api() as api:
            for name in ("start_command", "stop_command"):
                if name in self.app:
                    record = _ok(
                        api.get(f"/api/v1/roaming/commands/{self.app[name]}"), app.emsp
                    ).json()
                    found[name] = {
                        "response": (record.get("response") or {}).get("result"),
                        "result": (record.get("result") or {}).get("result"),
                    }
            if found["session"] is not None:
                cdrs = api.get("/api/v1/cdrs", params={"session_id": found["session"]}).json()
                found["cdrs"] = len(cdrs["items"])
                found["currency"] = sorted({cdr["currency"] for cdr in cdrs["items"]})
        return found

    # -- stopping -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Every simulated station, then every deployment, stopped and awaited."""
        self.end_traffic(20)
        if self._stations is not None:
            self._stations.close()
        # SIGTERM to all at once, then each awaited: they shut down side by side.
        for deployment in self.deployments.values():
            if deployment.process is not None and deployment.process.poll() is None:
                deployment.process.terminate()
        errors: list[str] = []
        for deployment in self.deployments.values():
            try:
                # Seven shutting down side by side on a busy machine take longer than one.
                deployment.stop(timeout=60)
            except IntercargaError as error:
                errors.append(str(error))
        if errors:
            raise DemoError("; ".join(errors))


def _incident_failures(incidents: dict[str, Any]) -> list[str]:
    """What the incidents' outcomes show went wrong, one line each."""
    failures = [
        f"{name}: {found['error']}" for name, found in incidents.items() if "error" in found
    ]
    offline = incidents.get("offline", {})
    if offline.get("session", "") is None:
        failures.append(f"offline: {offline['station']} has no session")
    elif "largest_gap_s" in offline:
        if offline["status"] != "COMPLETED":
            failures.append(f"offline: session {offline['session']} is {offline['status']}")
        gap = offline["largest_gap_s"]
        if gap is None or gap >= offline["offline_s"] or offline["covers_s"] < offline["offline_s"]:
            failures.append(
                f"offline: session {offline['session']} lacks the meter values queued offline"
            )
    tariff = incidents.get("tariff", {})
    if "at_emsps" in tariff and sorted(tariff["at_emsps"]) != tariff["reached"]:
        missing = sorted(set(tariff["at_emsps"]) - set(tariff["reached"]))
        failures.append(f"tariff: {tariff['tariff']} at {tariff['price']} did not reach {missing}")
    silent = incidents.get("silent")
    if silent is not None and not silent["flagged"]:
        failures.append(f"silent: the access point did not flag {silent['cpo']}")
    adhoc = incidents.get("adhoc", {})
    if "planned" in adhoc and adhoc["cdrs"] != adhoc["planned"]:
        failures.append(
            f"adhoc: {adhoc['cdrs']} CDR(s) of charges paid at {adhoc['cpo']}'s terminal, "
            f"{adhoc['planned']} planned"
        )
    if "tokens" in adhoc and adhoc["tokens"] != adhoc["cdrs"]:
        failures.append("adhoc: a one-time token paid for more than one charge")
    app = incidents.get("app", {})
    if "error" not in app:
        if app.get("session") is None:
            failures.append("app: START_SESSION started no session")
        elif app.get("cdrs") != 1:
            failures.append(
                f"app: session {app['session']} has {app.get('cdrs')} CDR(s) at {app['emsp']}"
            )
    return failures


def _schema(key: str) -> str:
    """A party's PostgreSQL schema: ``demo_`` and its key (``demo_cl_cpo``)."""
    return "demo_" + key.replace("-", "_")


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def _ok(response: httpx.Response, party: str) -> httpx.Response:
    if not response.is_success:
        raise DemoError(
            f"{party}: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:200]}"
        )
    return response


def _total(api: httpx.Client, path: str, **params: str) -> int:
    shown = api.get(path, params={**params, "limit": 1})
    return int(shown.json()["total"])


@contextmanager
def running(demo: Demo) -> Iterator[Demo]:
    """The demo's processes, stopped however the block ends (Ctrl-C included)."""
    try:
        yield demo
    finally:
        demo.stop()
