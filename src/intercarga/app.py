"""The composition root: builds the running system from settings and wires every layer.

No other module reaches for globals or builds long-lived objects on its own: the engine, the
store, the admin authentication and the servers are created here, handed down, and closed here.

Every object receives what it needs at construction, and :meth:`System.open` builds them in
dependency order: engine → store, event bus, admin authentication → the live-links registry
(:class:`~intercarga.ocpp.server.StationLinks`) → roaming's partner access (when the system
roams) → authorizer → CSMS service → OCPP endpoint → roaming. Nothing is set on an object after
it is built (``tests/test_app.py`` fails on an attribute set here). The authorizer asks roaming's
real-time authorization about unknown tokens, so that part of roaming
(:class:`~intercarga.ocpi.roaming.PartnerAccess`) comes before it; the rest of roaming runs OCPI
commands on the CSMS's stations, so it comes after the CSMS service. The CSMS service and the
endpoint need each other (the service sends commands over the links the endpoint accepts; the
endpoint dispatches station traffic to the service). That cycle is broken by the registry,
created first and handed to both: the endpoint keeps the live links in it, the service only
reads it, and neither holds the other. :func:`http_app` builds the HTTP app from only what it
serves (the admin API's services, the token checker, a health probe, a metrics registry of its
own, the body limit and the other layers' routers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import uvicorn
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from intercarga.admission import BurstLog, summarise_accept_errors
from intercarga.background import Deadline, pause, stop_tasks, within
from intercarga.bus import EventBus
from intercarga.config import Settings
from intercarga.csms import Authorizer, CsmsService
from intercarga.errors import ConfigurationError, IntercargaError
from intercarga.ocpi.roaming import PartnerAccess, Roaming, RoamingOptions
from intercarga.ocpp.auth import StoreAuthenticator
from intercarga.ocpp.dispatch import StationDispatcher
from intercarga.ocpp.server import CsmsServer, StationLinks
from intercarga.ocpp.tls import server_context
from intercarga.registry import Registry, ReportingRules, load_rules
from intercarga.store import Store, check_database, create_engine, database_unavailable, upgrade
from intercarga.store.admin_tokens import AdminTokenRepository
from intercarga.store.database import describe_database_error
from intercarga.store.open_data import PublishedLocations
from intercarga.web.api.services import AdminServices
from intercarga.web.auth import AdminAuth
from intercarga.web.http import create_http_app
from intercarga.web.problems import ErrorPage

if TYPE_CHECKING:
    from intercarga.cluster import Cluster

__all__ = ["Listener", "System", "bind", "http_app", "reporting_rules", "serve"]

log = logging.getLogger(__name__)

# Seconds a step of a stop gets however late it comes: enough for a healthy one (a pool's
# close, a server's last close frames), so that a stop that ran late still closes what it can.
_LAST_STEP = 0.5


@dataclass
class System:
    """Everything a running Intercarga process holds, built by :meth:`open`."""

    settings: Settings
    engine: AsyncEngine
    store: Store
    admin_auth: AdminAuth
    bus: EventBus
    links: StationLinks
    csms_service: CsmsService
    csms: CsmsServer
    registry: Registry
    # This node's membership of a cluster; None for a single node (no [cluster] nats_url).
    cluster: Cluster | None = None
    roaming: Roaming | None = None  # only when opened with ``roaming`` options

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        join_cluster: bool = False,
        roaming: RoamingOptions | None = None,
    ) -> System:
        """Connect to the database (and migrate it); :class:`StorageError` when it can't be used.

        ``join_cluster``: with ``[cluster] nats_url`` set, join the cluster as ``node_id`` (only
        ``serve`` does). Off, the process is a node of its own even in a cluster's configuration:
        a CLI command run beside a node with the same ``node_id`` must never answer the commands,
        or take over the stations, meant for that node.

        With ``roaming``, OCPI roaming is built too, wired to the CSMS: its real-time
        authorization asked about unknown tokens, its commands run on the stations, and what
        the bus publishes pushed to partners.
        """
        rules = reporting_rules(settings)
        engine = create_engine(settings.database_url.get_secret_value(), settings.database_schema)
        try:
            await check_database(engine)
            if migrate:
                await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        configured = settings.admin_token.get_secret_value() if settings.admin_token else None
        try:
            joins = join_cluster and settings.cluster.nats_url is not None
            cluster = None
            if joins:
                # NATS and the cluster's wire only for a node of a cluster.
                from intercarga.cluster import Cluster

                cluster = await Cluster.open(settings.cluster)
        except BaseException:
            await engine.dispose()
            raise
        store = Store(
            engine,
            authorization_retention=timedelta(days=settings.ocpi.authorization_retention_days),
        )
        bus = EventBus() if cluster is None else cluster.bus
        admin_auth = AdminAuth(AdminTokenRepository(engine), configured)
        links = StationLinks()
        registry = Registry(
            store, rules, reliability_threshold=settings.registry.reliability_threshold
        )
        # Roaming's access to partners before the authorizer, which asks its eMSPs through it.
        access = (
            None if roaming is None else PartnerAccess.build(settings, store, roaming.transport)
        )
        authorizer = Authorizer(
            store,
            roaming=None if access is None else access.authorize_unknown,
            master_pass_groups=frozenset(settings.ocpp.master_pass_groups),
        )
        service = CsmsService(
            settings,
            store,
            bus,
            authorizer,
            links,
            remote=None if cluster is None else cluster.router,
        )
        authenticator = StoreAuthenticator(store, settings.ocpp)
        dispatcher = StationDispatcher(service)
        handler = dispatcher if cluster is None else cluster.fenced(dispatcher)
        csms = CsmsServer(settings.ocpp, authenticator, handler, links=links, payloads=True)
        if cluster is not None:
            await cluster.responder(
                service.run_local_command, service.local_call, service.local_connection
            )
        # The rest of roaming after the CSMS service, whose stations its OCPI commands run on.
        roaming_service = None
        if roaming is not None:
            roaming_service = Roaming.build(
                settings,
                store,
                access=access,
                stations=roaming.stations or service,
                bus=bus,
                policy=roaming.policy,
                watch_interval=roaming.watch_interval,
                registry=registry,
                pull_interval=settings.registry.pull_interval,
            )
        return cls(
            settings,
            engine,
            store,
            admin_auth,
            bus,
            links,
            service,
            csms,
            registry,
            cluster,
            roaming_service,
        )

    async def close(self, timeout: float | None = None) -> None:
        """Close roaming's client, leave the cluster and close the database's connections;
        with ``timeout``, within about that many seconds: a step still waiting then (a database
        that does not answer) is abandoned, and its sockets end with the process."""
        if timeout is None:
            if self.roaming is not None:
                await self.roaming.client.aclose()  # its pooled connections (stop() too)
            if self.cluster is not None:
                await self.cluster.close()
            await self.engine.dispose()
            return
        deadline = Deadline(timeout)
        if self.roaming is not None:
            await within(self.roaming.client.aclose(), deadline.left(0.2), "closing OCPI's client")
        if self.cluster is not None:
            await within(
                self.cluster.close(deadline.left(0.6)), deadline.left(0.8), "leaving the cluster"
            )
        # A healthy pool closes in milliseconds: at least a moment for it, however late.
        await within(
            self.engine.dispose(), max(deadline.left(), _LAST_STEP), "closing the database pool"
        )


def reporting_rules(settings: Settings) -> ReportingRules:
    """The shipped country reporting rules with the settings' overrides."""
    try:
        return load_rules().overridden(settings.registry.rules)
    except (ValueError, KeyError) as error:
        raise ConfigurationError(str(error)) from None


def http_app(
    system: System, routers: Iterable[APIRouter] = (), error_page: ErrorPage | None = None
) -> FastAPI:
    """The HTTP app of ``system``, with ``routers`` (OCPI's, …) beside the admin API, and
    ``error_page`` (the dashboard's) for a browser that asks for an address that is not there."""

    async def health() -> None:
        await check_database(system.engine)
        if system.cluster is not None:
            system.cluster.check()

    return create_http_app(
        admin=AdminServices(
            system.store,
            system.bus,
            system.links,
            system.csms_service,
            assessment_data=system.settings.assessment_data,
            registry=system.registry,
        ),
        admin_auth=system.admin_auth,
        health=health,
        metrics_registry=CollectorRegistry(),
        max_body_size=system.settings.http.max_body_size,
        routers=routers,
        error_page=error_page,
    )


class ListenError(IntercargaError):
    """A port to serve on cannot be bound."""


@dataclass(frozen=True)
class Listener:
    name: str
    socket: socket.socket

    @property
    def port(self) -> int:
        port: int = self.socket.getsockname()[1]
        return port


def bind(name: str, host: str, port: int, *, reuse_port: bool = False) -> Listener:
    """Bind before anything starts, so a taken port is one clear error and nothing half-runs.

    ``reuse_port``: SO_REUSEPORT, so the workers of ``serve --workers`` each listen on the same
    port and the kernel spreads new connections over them. Such a socket is bound but not yet
    listening: it listens when its server starts serving, since the kernel hands a listening
    socket its share of new connections at once, and a worker started again after a crash
    would hold its share in its backlog for the seconds it takes to start.
    """
    try:
        if reuse_port:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind((host, port))
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_server((host, port), backlog=2048)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ListenError(f"cannot listen for {name} on {host}:{port}: {reason.lower()}") from None
    # Answers go out at once. asyncio sets TCP_NODELAY only on sockets it made itself; on ours
    # Nagle held a response's second write until the peer's delayed ACK (40 ms on Linux): every
    # request on a kept-alive connection took ≥ 44 ms. Linux passes the option to each
    # accepted connection.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return Listener(name, sock)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _expire_transactions(system: System, stopping: asyncio.Event) -> None:
    """Close, now and then, the transactions no station has spoken of for too long."""
    silence = timedelta(hours=system.settings.ocpp.transaction_timeout)
    check_every = min(600.0, silence.total_seconds() / 4)
    while not stopping.is_set():
        try:
            closed = await system.csms_service.expire_silent_transactions(silence)
            if closed:
                log.warning("closed %d silent transactions", closed)
        except IntercargaError as error:
            log.error("expiring transactions failed: %s", error)
        except Exception as error:
            # The loop outlives a database that is away (or anything else): it runs again later.
            if not database_unavailable(error):
                log.exception("expiring transactions failed")
            else:
                log.error("expiring transactions failed: %s", describe_database_error(error))
        await pause(stopping, check_every)


async def serve(
    settings: Settings,
    *,
    show_admin_token: Callable[[str], None],
    seed: bool = False,
    demo: bool = False,
    show_admin_password: Callable[[str], None] | None = None,
    ready: asyncio.Event | None = None,
    reuse_port: bool = False,
) -> None:
    """Run the HTTP and OCPP servers until SIGINT or SIGTERM, then shut down cleanly.

    ``show_admin_token`` shows the person starting the server the admin token made at first
    start, once, and ``show_admin_password`` the dashboard's first admin password; neither may
    go through logging (see below). ``demo`` plays the example network's stations in-process.
    ``reuse_port``: listen with SO_REUSEPORT beside the other workers of ``serve --workers``.
    """
    from intercarga.dashboard import Dashboard
    from intercarga.ocpi.api import routers as ocpi_routers
    from intercarga.ocpi.mapping import location_to_ocpi
    from intercarga.sim.example import load_network, seed_example_network, seed_network
    from intercarga.web.api.open_data import OpenDataApi
    from intercarga.web.api.registry import registry_router
    from intercarga.web.listener import http_admission, uvicorn_config

    tls = server_context(settings.ocpp)
    http = bind("HTTP", settings.http_host, settings.http_port, reuse_port=reuse_port)
    ocpp = bind("OCPP", settings.ocpp_host, settings.ocpp_port, reuse_port=reuse_port)
    system = await System.open(settings, join_cluster=True, roaming=RoamingOptions())
    deadline: Deadline | None = None  # set once the stop begins
    roaming = system.roaming
    assert roaming is not None  # asked for: opened with roaming options
    try:
        token = await system.admin_auth.ensure_token()
        if token is not None:
            # Shown, never logged: log lines are shipped to collectors and kept, and a log level
            # above WARNING would hide the one chance to read it.
            show_admin_token(token)
            log.warning("a new admin token was made and shown once on the console, not logged")
        seeding = seed or settings.seed_example_network or demo
        if settings.seed_network is not None:
            network = load_network(settings.seed_network)
            if await seed_network(system.store, network):
                log.info("seeded the network of %s", settings.seed_network)
        elif seeding and await seed_example_network(system.store):
            log.info("seeded the example network")
        open_data = OpenDataApi(
            PublishedLocations(system.engine),
            render=partial(location_to_ocpi, version="2.2.1"),
            history=system.store.status_history,
        )
        dashboard = Dashboard(
            store=system.store,
            bus=system.bus,
            commands=system.csms_service,
            connections=system.csms,
            roaming=roaming,
        )
        password = await dashboard.accounts.ensure_admin()
        if password is not None and show_admin_password is not None:
            show_admin_password(password)
            log.warning("the dashboard's admin password was shown once on the console, not logged")
        routers = [
            *ocpi_routers(roaming),
            registry_router(system.registry),
            open_data.router(),
            dashboard.router,
        ]
        app = http_app(system, routers=routers, error_page=dashboard.error_page)
        admission = http_admission(settings.http)
        server = _Server(uvicorn_config(app, settings.http, admission))
        # Roaming first: it queues the CDRs a killed process stored but never queued, and
        # must be done before stations (replaying their queues) can make new ones.
        if system.cluster is not None:
            await system.cluster.bus.start_groups()  # every group's subscriber is wired now
        await roaming.start()
        await system.csms.start(ocpp.socket, tls)
        stop = asyncio.Event()
        expiry = asyncio.create_task(_expire_transactions(system, stop), name="expiry")
        warming = asyncio.create_task(dashboard.warm(), name="dashboard-warm")
        background = [expiry, warming]
        if demo:
            from intercarga.sim.demo import run_demo  # the simulator only when asked to play

            ocpp_url = f"{'wss' if tls else 'ws'}://127.0.0.1:{ocpp.port}/ocpp"
            background.append(
                asyncio.create_task(run_demo(system.store, ocpp_url, stop), name="demo")
            )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        accept_errors = BurstLog(log, "listeners")
        summarise_accept_errors(loop, accept_errors)
        http_task = asyncio.create_task(server.serve(sockets=[http.socket]), name="http")
        if ready is not None:
            ready.set()  # before the line that says so (a supervisor may act on either)
        log.info(
            "serving",
            extra={
                "http": f"http://{settings.http_host}:{http.port}",
                "ocpp": f"{'wss' if tls else 'ws'}://{settings.ocpp_host}:{ocpp.port}/ocpp/{{station_id}}",
            },
        )
        stop_task = asyncio.create_task(stop.wait(), name="stop")
        await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        log.info("shutting down")
        # Every step below gets a share of what is left of stop_timeout, and one that outlives
        # it is abandoned: a database or a partner that no longer answers must not hold a
        # stopping node (a rolling upgrade waits for it). What such a step still waits for
        # was never acknowledged (a station's message is answered once it is committed).
        deadline = Deadline(settings.stop_timeout)
        stop.set()  # also when the HTTP server ended by itself
        warming.cancel()  # a map built ahead is no use any more
        server.should_exit = True
        dashboard.close()  # the live streams end, or the HTTP server would wait for them
        if not await within(asyncio.shield(http_task), deadline.left(0.25), "the HTTP server"):
            server.force_exit = True  # requests still running are cancelled
            await within(http_task, _LAST_STEP, "the HTTP server's requests")
        stop_task.cancel()
        if system.cluster is not None:
            # The events still to come (the stations' sockets closing) go to the other nodes'
            # pushers, or wait in the stream for this node's next start.
            await within(
                system.cluster.bus.stop_groups(), deadline.left(0.2), "leaving the event groups"
            )
        # Side by side: the stations are told to go (to another node) at once, while the
        # background loops and roaming finish what they are doing; each loop is waited for
        # a third of what is left, then cancelled and waited for another third.
        grace = deadline.left(1 / 3)
        await asyncio.gather(
            within(system.csms.stop(deadline.left(0.6)), deadline.left(0.8), "closing stations"),
            within(stop_tasks(background, grace), deadline.left(0.8), "background work"),
            within(roaming.stop(grace), deadline.left(0.8), "roaming"),
        )
        admission.close()
        accept_errors.close()
        loop.set_exception_handler(None)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if http_task.done() and not http_task.cancelled():
            http_task.result()  # the HTTP server's own failure, if it ended by one, is serve's
    finally:
        left = settings.stop_timeout if deadline is None else deadline.left()
        await system.close(max(left, _LAST_STEP))
        http.socket.close()
        ocpp.socket.close()
        log.info("stopped")
