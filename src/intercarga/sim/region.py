"""``intercarga demo``: a live roaming region on this machine, every party its own deployment.

The region (``data/demo/region.toml``): CPOs in Chile, Colombia and Brazil, a regional and a
national eMSP, a roaming hub and an access point, each an ``intercarga serve`` process with its
own folder and SQLite database on free ports. They meet only the way real parties do: the OCPI
credentials handshake from a TOKEN_A, then OCPI over HTTP. Simulated stations
(``intercarga simulate``) charge at the CPOs with the eMSPs' drivers' cards, which the CPOs
authorize in real time with the eMSP (directly or through the hub); every session is priced in
its CPO's currency and its CDR travels to the driver's eMSP.

What this module knows of a party it reads from the party's admin API, like an operator: it never
opens a database or reaches into a process. Every process it starts is stopped when the demo ends,
however it ends (and dies with the demo if the demo itself is killed).
"""

from __future__ import annotations

import random
import subprocess
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intercarga.errors import IntercargaError, InvalidInputError
from intercarga.ids.contract_id import iso_check_character
from intercarga.sim.processes import Deployment, OcpiParty, intercarga_command, start_child

__all__ = [
    "Demo",
    "DemoOptions",
    "DemoPlan",
    "PartyStatus",
    "load_plan",
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


class Cards(_Strict):
    cpo: str
    emsp: str
    stations: list[int] = Field(min_length=1)


class DemoPlan(_Strict):
    about: _About
    deployments: list[DeploymentSpec]
    links: list[Link]
    cards: list[Cards]

    def deployment(self, key: str) -> DeploymentSpec:
        for spec in self.deployments:
            if spec.key == key:
                return spec
        raise InvalidInputError(f"the demo plan names an unknown deployment {key!r}")

    def card_owner(self, cpo: str, number: int) -> str | None:
        for cards in self.cards:
            if cards.cpo == cpo and number in cards.stations:
                return cards.emsp
        return None


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
    for cards in plan.cards:
        plan.deployment(cards.cpo), plan.deployment(cards.emsp)
    return plan


def card_uid(cpo: DeploymentSpec, number: int) -> str:
    """The RFID card the CPO's station ``number`` reads (the scenario's id_tag for it)."""
    return f"DRV-{cpo.parties[0].country_code}-{number:04d}"


def _contract_id(party: PartySpec, serial: int) -> str:
    body = f"{party.country_code}{party.party_id}C{serial:08d}"
    check = iso_check_character(body)
    return f"{party.country_code}-{party.party_id}-C{serial:08d}-{check}"


@dataclass(frozen=True)
class DemoOptions:
    """What the operator of the demo chose on the command line."""

    folder: Path
    sessions: int = 2  # per station
    speed: float = 300.0  # simulated seconds per real second
    seed: int = 1
    stations: int | None = None  # per CPO; None: all the plan has
    duration: float | None = None  # real seconds; None: until every session is done

    def __post_init__(self) -> None:
        if self.sessions < 1:
            raise InvalidInputError("--sessions must be at least 1")
        if not self.speed > 0:
            raise InvalidInputError("--speed must be positive")
        if self.stations is not None and self.stations < 1:
            raise InvalidInputError("--stations must be at least 1")


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


class DemoError(IntercargaError):
    """The demo could not set up its region (the message says which party and what)."""


@dataclass
class _Fleet:
    cpo: str
    group: StationGroup
    process: subprocess.Popen[str]
    output: Path


class Demo:
    """Sets up the region, runs its traffic, reports, and stops everything it started."""

    def __init__(self, plan: DemoPlan, options: DemoOptions) -> None:
        self.plan = plan
        self.options = options
        self.deployments: dict[str, Deployment] = {}
        self._fleets: list[_Fleet] = []
        self._random = random.Random(options.seed)

    # -- set-up ---------------------------------------------------------------------------------

    def create(self, progress: Callable[[str], None]) -> None:
        """Each deployment's folder and configuration; the CPOs' networks seeded."""
        if self.options.folder.exists() and any(self.options.folder.iterdir()):
            raise InvalidInputError(
                f"{self.options.folder} is not empty: the demo needs a new folder"
            )
        for spec in self.plan.deployments:
            progress(f"creating {spec.key}")
            deployment = Deployment.create(
                self.options.folder / spec.key,
                [OcpiParty(p.country_code, p.party_id, p.role, p.name) for p in spec.parties],
                versions=spec.versions,
            )
            if spec.network is not None:
                network = deployment.folder / spec.network
                network.write_text(_data(spec.network), encoding="utf-8")
                seeded = deployment.cli("db", "seed", "--network", str(network), timeout=120)
                if seeded.returncode != 0:
                    raise DemoError(f"{spec.key}: seeding failed: {seeded.stderr.strip()}")
            self.deployments[spec.key] = deployment

    def start(self, progress: Callable[[str], None]) -> None:
        """Every deployment started and answering ``/healthz``.

        Two at a time: a start is mostly one core's work (imports, schema validators,
        migrations), and seven at once on a small machine only make each slower.
        """
        progress("starting " + ", ".join(self.deployments))
        # Launched from this thread: a child dies with the thread that started it.
        deployments = list(self.deployments.values())
        for pair in (deployments[i : i + 2] for i in range(0, len(deployments), 2)):
            for deployment in pair:
                deployment.launch()
            for deployment in pair:
                deployment.wait_until_up(300)

    def register(self, progress: Callable[[str], None]) -> None:
        """The plan's links, each through the OCPI credentials handshake from a TOKEN_A."""
        for link in self.plan.links:
            progress(f"{link.registrant} registers with {link.inviter}")
            self.deployments[link.registrant].register_with(self.deployments[link.inviter])

    def prepare(self, progress: Callable[[str], None]) -> None:
        """Station passwords at the CPOs; the drivers' cards at their eMSPs."""
        serial = 0
        for spec in self.plan.deployments:
            if not spec.is_cpo:
                continue
            cpo = self.deployments[spec.key]
            progress(f"{spec.key}: station passwords")
            with cpo.api() as api:
                for number in self._numbers(spec):
                    station_id = self._station_id(spec, number)
                    station = _ok(api.get(f"/api/v1/stations/{station_id}"), spec.key).json()
                    station.pop("connection", None)
                    station["password"] = STATION_PASSWORD
                    _ok(api.put(f"/api/v1/stations/{station_id}", json=station), spec.key)
            for number in self._numbers(spec):
                owner = self.plan.card_owner(spec.key, number)
                if owner is None:
                    continue
                serial += 1
                party = self.plan.deployment(owner).parties[0]
                uid = card_uid(spec, number)
                token = {
                    "country_code": party.country_code,
                    "party_id": party.party_id,
                    "uid": uid,
                    "type": "RFID",
                    "contract_id": _contract_id(party, serial),
                    "issuer": party.name,
                    "whitelist": "NEVER",  # the CPO asks the eMSP at every charge
                }
                path = f"/api/v1/tokens/{party.country_code}/{party.party_id}/{uid}"
                with self.deployments[owner].api() as api:
                    _ok(api.put(path, json=token), owner)
        progress("waiting for the cards to reach the CPOs")
        self._wait_for_cards()

    def _wait_for_cards(self, seconds: float = 60) -> None:
        """Each CPO holds the cards its stations read (pushed by the eMSPs, some via the hub)."""
        deadline = time.monotonic() + seconds
        for spec in self.plan.deployments:
            if not spec.is_cpo:
                continue
            with self.deployments[spec.key].api() as api:
                for number in self._numbers(spec):
                    owner = self.plan.card_owner(spec.key, number)
                    if owner is None:
                        continue
                    party = self.plan.deployment(owner).parties[0]
                    path = (
                        f"/api/v1/tokens/{party.country_code}/{party.party_id}/"
                        f"{card_uid(spec, number)}"
                    )
                    while api.get(path).status_code != 200:
                        if time.monotonic() > deadline:
                            raise DemoError(
                                f"{spec.key} did not receive card {card_uid(spec, number)} "
                                f"from {owner} in {seconds:g} s"
                            )
                        time.sleep(0.2)

    def _numbers(self, spec: DeploymentSpec) -> list[int]:
        numbers = [n for group in spec.stations for n in group.numbers()]
        return numbers[: self.options.stations] if self.options.stations else numbers

    @staticmethod
    def _station_id(spec: DeploymentSpec, number: int) -> str:
        [prefix] = {group.prefix for group in spec.stations}
        return f"{prefix}{number:04d}"

    # -- traffic --------------------------------------------------------------------------------

    def _scenario(self, spec: DeploymentSpec, group: StationGroup) -> str:
        minutes = self._random.randint(20, 45)
        soc = self._random.randint(15, 40)
        kw = "150" if group.current == "DC" else "22"
        return (
            f"name: demo-{spec.key}\n"
            f"description: {self.options.sessions} charge(s) per station with a driver's card\n"
            f"station: {{evses: 1, current: {group.current}, max_kw: {kw}, meter_interval: 60}}\n"
            f"vehicle: {{battery_kwh: 60, soc: {soc}}}\n"
            f'id_tag: "DRV-{spec.parties[0].country_code}-{{n:04d}}"\n'
            f"repeat: {self.options.sessions}\n"
            "steps:\n"
            "  - boot\n"
            "  - plug_in\n"
            "  - authorize\n"
            "  - start\n"
            f"  - charge: {{minutes: {minutes}}}\n"
            "  - stop: {reason: Local}\n"
            "  - unplug\n"
            "  - wait: {seconds: 300}\n"
        )

    def start_traffic(self) -> None:
        """An ``intercarga simulate`` fleet per station group of each CPO."""
        for spec in self.plan.deployments:
            cpo = self.deployments.get(spec.key)
            if cpo is None or not spec.stations:
                continue
            wanted = set(self._numbers(spec))
            for index, group in enumerate(spec.stations):
                numbers = [n for n in group.numbers() if n in wanted]
                if not numbers:
                    continue
                scenario = cpo.folder / f"scenario-{index + 1}.yaml"
                scenario.write_text(self._scenario(spec, group), encoding="utf-8")
                output = cpo.folder / f"simulate-{index + 1}.json"
                command = intercarga_command(
                    "simulate", "--url", cpo.ocpp_url, "--ocpp", group.ocpp,
                    "--id-prefix", group.prefix, "--first", str(numbers[0]),
                    "--stations", str(len(numbers)), "--password", STATION_PASSWORD,
                    "--scenario", str(scenario), "--speed", str(self.options.speed), "--json",
                )  # fmt: skip
                if self.options.duration is not None:
                    command += ["--duration", str(self.options.duration)]
                process = _start_with_output(command, cwd=cpo.folder, output=output)
                self._fleets.append(_Fleet(spec.key, group, process, output))

    @property
    def traffic_running(self) -> bool:
        return any(fleet.process.poll() is None for fleet in self._fleets)

    def wait_for_delivery(self, seconds: float = 60) -> None:
        """After the traffic: until no party has a push pending (or ``seconds`` passed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if all(status.push_pending == 0 for status in self.status()):
                return
            time.sleep(0.5)

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

        A flow's CDRs are those the CPO made for the eMSP's drivers; ``delivered`` counts them at
        the eMSP, ``duplicated`` counts any the eMSP holds more than once.
        """
        parties = {s.key: s for s in self.status()}
        flows: list[dict[str, Any]] = []
        failures: list[str] = []
        held: dict[str, Counter[str]] = {}
        for spec in self.plan.deployments:
            if spec.parties[0].role == "EMSP" and self.deployments[spec.key].running:
                held[spec.key] = Counter(cdr["id"] for cdr in self.cdrs(spec.key))
        for spec in self.plan.deployments:
            if not spec.is_cpo or not self.deployments[spec.key].running:
                continue
            by_owner: dict[str, list[dict[str, Any]]] = {}
            for cdr in self.cdrs(spec.key):
                token = cdr["cdr_token"]
                for emsp in self.plan.deployments:
                    party = emsp.parties[0]
                    if (party.country_code, party.party_id) == (
                        token["country_code"],
                        token["party_id"],
                    ):
                        by_owner.setdefault(emsp.key, []).append(cdr)
            for emsp_key, made in sorted(by_owner.items()):
                at_emsp = held.get(emsp_key, Counter())
                delivered = sum(1 for cdr in made if at_emsp[cdr["id"]] >= 1)
                duplicated = sum(1 for cdr in made if at_emsp[cdr["id"]] > 1)
                currencies = sorted({cdr["currency"] for cdr in made})
                flows.append(
                    {
                        "cpo": spec.key,
                        "emsp": emsp_key,
                        "cdrs": len(made),
                        "delivered": delivered,
                        "duplicated": duplicated,
                        "currencies": currencies,
                    }
                )
                if delivered < len(made):
                    failures.append(f"{spec.key} → {emsp_key}: {len(made) - delivered} CDR(s) lost")
                if duplicated:
                    failures.append(f"{spec.key} → {emsp_key}: {duplicated} CDR(s) duplicated")
        for status in parties.values():
            if status.push_failed:
                failures.append(f"{status.key}: {status.push_failed} push(es) failed")
        for fleet in self._fleets:
            code = fleet.process.poll()
            if code not in (0, None):
                failures.append(f"{fleet.cpo}: simulated stations ended with code {code}")
        return {
            "seed": self.options.seed,
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
            "failures": failures,
        }

    # -- stopping -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Every simulated fleet, then every deployment, stopped and awaited."""
        for fleet in self._fleets:
            if fleet.process.poll() is None:
                fleet.process.terminate()
        for fleet in self._fleets:
            try:
                fleet.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fleet.process.kill()
                fleet.process.wait(timeout=5)
        errors: list[str] = []
        for deployment in self.deployments.values():
            try:
                deployment.stop()
            except IntercargaError as error:
                errors.append(str(error))
        if errors:
            raise DemoError("; ".join(errors))


def _start_with_output(command: list[str], *, cwd: Path, output: Path) -> subprocess.Popen[str]:
    return start_child(command, cwd=cwd, log=output)


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
