"""The dashboard's pages and their small JSON and event-stream companions, on one router.

Pages are rendered on the server (Jinja2) in the visitor's language; a few scripts draw the map,
follow the live stream and send station commands. Every page but sign-in needs a signed-in
operator: without one it answers 401 with the sign-in form, so a walk of the routes and a browser
see the same refusal. Every form carries the session's CSRF token and every change is refused
(403) without it, or to a viewer. This module translates between HTTP and the services below; it
must never decide what a command or a price means.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at run time,
# and the dependencies (Viewer, Operator) are local to DashboardViews.router.

import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import TypeAdapter, ValidationError

from intercarga.billing import compile_tariff, price_cdr
from intercarga.billing.explain import Language, explain_tariff, local_time, why
from intercarga.csms import CsmsService
from intercarga.dashboard.accounts import Accounts, Role, SignedIn
from intercarga.dashboard.compliance import NetworkCompliance
from intercarga.dashboard.i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    Catalogs,
    Translator,
    choose_language,
)
from intercarga.dashboard.live import LiveFeed
from intercarga.dashboard.markers import Markers
from intercarga.dashboard.words import Words
from intercarga.domain import EVSEStatus, Location, SessionStatus, Station
from intercarga.domain._types import utc_now
from intercarga.errors import IntercargaError, InvalidInputError, NotFoundError
from intercarga.hardware import (
    ChargeMethod,
    CompatibilityResult,
    ComplianceReport,
    ConnectorVerdict,
    compatibility,
    comply,
    connector_catalogue,
    country_rules,
    vehicle_catalogue,
)
from intercarga.hardware.rules import Breach, Finding, Severity, known_countries
from intercarga.ocpi.client import PartnerError
from intercarga.ocpi.envelope import OcpiError
from intercarga.ocpi.roaming import Roaming
from intercarga.ocpp.commands import COMMANDS
from intercarga.ocpp.errors import CallFailedError, CallTimeoutError, StationOfflineError
from intercarga.ocpp.server import CsmsServer
from intercarga.store import Store

__all__ = ["DashboardViews", "StaticFolders"]

SESSION_COOKIE = "intercarga_session"
LANGUAGE_COOKIE = "lang"
_SIGN_IN_CSRF_COOKIE = "intercarga_signin"
_ONE_YEAR = 365 * 24 * 3600

# The commands the station page offers: version-free, safe to explain in a form.
PAGE_COMMANDS = (
    "remote_start",
    "remote_stop",
    "reset",
    "unlock_connector",
    "change_availability",
    "trigger_message",
    "get_variables",
    "set_variables",
)


@dataclass(frozen=True)
class StaticFolders:
    """Where the browser's files come from: ours, and the installed xstatic packages'."""

    folders: dict[str, Path]

    @classmethod
    def installed(cls) -> "StaticFolders":
        import xstatic.pkg.leaflet as leaflet
        import xstatic.pkg.leaflet_markercluster as markercluster

        own = Path(str(resources.files("intercarga.dashboard").joinpath("static")))
        return cls(
            {
                "app": own,
                "leaflet": Path(leaflet.BASE_DIR),
                "markercluster": Path(markercluster.BASE_DIR),
            }
        )

    def find(self, folder: str, path: str) -> Path | None:
        base = self.folders.get(folder)
        if base is None:
            return None
        found = (base / path).resolve()
        if not found.is_relative_to(base.resolve()) or not found.is_file():
            return None
        return found


class _NotSignedInError(Exception):
    pass


class _ForbiddenError(Exception):
    pass


def _form_body(name: str, form: dict[str, str]) -> dict[str, Any]:
    """A command's fields, from its form (empty fields left out)."""
    f = {key: value.strip() for key, value in form.items() if value.strip()}
    evse = f.get("evse")
    match name:
        case "remote_start":
            token = {"value": f.get("id_token", ""), "type": f.get("id_token_type", "ISO14443")}
            return {"id_token": token, "evse": evse}
        case "remote_stop":
            return {"transaction_id": f.get("transaction_id")}
        case "reset":
            return {"kind": f.get("kind", "OnIdle"), "evse": evse}
        case "unlock_connector":
            return {"evse": evse, "connector": f.get("connector", "1")}
        case "change_availability":
            return {"operative": f.get("operative") == "true", "evse": evse}
        case "trigger_message":
            return {"message": f.get("message"), "evse": evse}
        case "get_variables":
            wanted = {"component": f.get("component"), "variable": f.get("variable")}
            return {"variables": [wanted] if f.get("variable") else []}
        case "set_variables":
            target = {"component": f.get("component"), "variable": f.get("variable")}
            return {"values": [[target, f.get("value")]]}
    return {}


# A country's findings on one page: the first ones, and how many there are.
_FINDINGS_SHOWN = 200

_COUNTRY = re.compile(r"^[A-Z]{2}$")

# Where a command's validation error points in its form.
_FIELD_OF = {"id_token": "id_token", "variables": "variable", "values": "value"}


class DashboardViews:
    def __init__(
        self,
        *,
        store: Store,
        accounts: Accounts,
        commands: CsmsService,
        connections: CsmsServer,
        live: LiveFeed,
        markers: Markers,
        compliance: NetworkCompliance,
        catalogs: Catalogs,
        static: StaticFolders,
        outlines: Path,
        roaming: Roaming | None,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._commands = commands
        self._connections = connections
        self._live = live
        self._marker_json = markers
        self._compliance = compliance
        self._catalogs = catalogs
        self._static = static
        self._outlines = outlines
        self._roaming = roaming
        self._templates = Environment(
            loader=PackageLoader("intercarga.dashboard", "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def translator(self, request: Request) -> Translator:
        language = choose_language(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
        return self._catalogs.translator(language)

    def page(
        self,
        request: Request,
        template: str,
        signed_in: SignedIn | None,
        status_code: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        _ = self.translator(request)
        html = self._templates.get_template(template).render(
            _=_,
            language=_.language,
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            user=None if signed_in is None else signed_in.user,
            may_operate=signed_in is not None and Role(signed_in.user.role).may_operate,
            csrf=None if signed_in is None else signed_in.csrf_token,
            path=request.url.path,
            money=_.money,
            country=_.country,
            number=_.number,
            session_words=_session_words(_),
            words=Words.of(_),
            finding_text=_findings(_),
            **values,
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "Content-Language": _.language,
                "Cache-Control": "no-store",
                # Everything the pages use is ours: no CDN, no inline script.
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    def sign_in_page(
        self, request: Request, *, status_code: int, failed: bool = False, next_path: str = "/map"
    ) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = self.page(
            request,
            "sign_in.html",
            None,
            status_code=status_code,
            sign_in_csrf=token,
            failed=failed,
            next_path=next_path,
        )
        response.set_cookie(
            _SIGN_IN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def signed_in(self, request: Request) -> SignedIn:
        found = await self._accounts.signed_in(request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise _NotSignedInError()
        return found

    async def operator(self, request: Request) -> SignedIn:
        """A signed-in operator or admin whose request carries the session's CSRF token."""
        found = await self.signed_in(request)
        given = request.headers.get("x-csrf-token")
        if given is None:
            form = await request.form()
            value = form.get("csrf")
            given = value if isinstance(value, str) else None
        if given is None or not secrets.compare_digest(given, found.csrf_token):
            raise _ForbiddenError()
        if not Role(found.user.role).may_operate:
            raise _ForbiddenError()
        return found

    # -- the router ---------------------------------------------------------------------------

    def router(self) -> APIRouter:
        views = self

        class Route(APIRoute):
            """Turns a missing sign-in into the sign-in page, a missing right into 403."""

            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handler = super().get_route_handler()

                async def guarded(request: Request) -> Response:
                    try:
                        return await handler(request)
                    except _NotSignedInError:
                        return views.refuse_anonymous(request)
                    except _ForbiddenError:
                        _ = views.translator(request)
                        message = _("You may not do this.")
                        return JSONResponse({"ok": False, "message": message}, 403)

                return guarded

        router = APIRouter(include_in_schema=False, route_class=Route)
        Viewer = Annotated[SignedIn, Depends(self.signed_in)]  # noqa: N806 - a type
        Operator = Annotated[SignedIn, Depends(self.operator)]  # noqa: N806 - a type

        @router.get("/")
        async def home(request: Request) -> Response:
            if await self._accounts.signed_in(request.cookies.get(SESSION_COOKIE)):
                return RedirectResponse("/map", status_code=303)
            return self.sign_in_page(request, status_code=200)

        @router.post("/sign-in")
        async def sign_in(
            request: Request,
            name: Annotated[str, Form(max_length=200)] = "",
            password: Annotated[str, Form(max_length=1000)] = "",
            csrf: Annotated[str, Form(max_length=200)] = "",
            next_path: Annotated[str, Form(alias="next", max_length=500)] = "/map",
        ) -> Response:
            expected = request.cookies.get(_SIGN_IN_CSRF_COOKIE, "")
            if not expected or not secrets.compare_digest(csrf, expected):
                return self.sign_in_page(request, status_code=403, failed=True)
            opened = await self._accounts.sign_in(name, password)
            if opened is None:
                return self.sign_in_page(request, status_code=401, failed=True, next_path=next_path)
            cookie, _session = opened
            # Only a path of ours: never a redirect elsewhere.
            target = (
                next_path
                if next_path.startswith("/") and not next_path.startswith("//")
                else "/map"
            )
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                cookie,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
                path="/",
            )
            response.delete_cookie(_SIGN_IN_CSRF_COOKIE, path="/")
            return response

        @router.post("/sign-out")
        async def sign_out(request: Request, signed_in: Viewer) -> Response:
            form = await request.form()
            given = form.get("csrf")
            if not isinstance(given, str) or not secrets.compare_digest(
                given, signed_in.csrf_token
            ):
                raise _ForbiddenError()
            await self._accounts.sign_out(request.cookies.get(SESSION_COOKIE, ""))
            response = RedirectResponse("/", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        @router.get("/language/{language}")
        async def language(request: Request, language: str) -> Response:
            back = request.headers.get("referer", "/")
            base = str(request.base_url)
            target = back[len(base) - 1 :] if back.startswith(base) else "/"
            response = RedirectResponse(target, status_code=303)
            if language in LANGUAGES:
                response.set_cookie(
                    LANGUAGE_COOKIE, language, max_age=_ONE_YEAR, samesite="lax", path="/"
                )
            return response

        @router.get("/static/{folder}/{path:path}")
        async def static(folder: str, path: str) -> Response:
            found = self._static.find(folder, path)
            if found is None:
                return Response(status_code=404)
            return FileResponse(found, headers={"Cache-Control": "public, max-age=3600"})

        @router.get("/map")
        async def map_page(request: Request, signed_in: Viewer) -> Response:
            _ = self.translator(request)
            return self.page(request, "map.html", signed_in, strings=_map_strings(_), base="/map")

        @router.get("/public")
        async def public_map(request: Request) -> Response:
            _ = self.translator(request)
            return self.page(request, "map.html", None, strings=_map_strings(_), base="/public")

        @router.get("/map/locations.json")
        async def locations(request: Request, signed_in: Viewer) -> Response:
            return await self._markers(request, published_only=False)

        @router.get("/public/locations.json")
        async def public_locations(request: Request) -> Response:
            return await self._markers(request, published_only=True)

        @router.get("/map/outlines.json")
        async def outlines(signed_in: Viewer) -> Response:
            return self._outlines_file()

        @router.get("/public/outlines.json")
        async def public_outlines() -> Response:
            return self._outlines_file()

        @router.get("/map/locations/{country_code}/{party_id}/{location_id}")
        async def location_panel(
            request: Request,
            signed_in: Viewer,
            country_code: str,
            party_id: str,
            location_id: str,
        ) -> Response:
            location = await self._store.locations.get(country_code, party_id, location_id)
            return await self._panel(request, signed_in, location, "/map")

        @router.get("/public/locations/{country_code}/{party_id}/{location_id}")
        async def public_location_panel(
            request: Request, country_code: str, party_id: str, location_id: str
        ) -> Response:
            location = await self._store.locations.find(country_code, party_id, location_id)
            if location is None or not location.publish:
                return Response(status_code=404)
            return await self._panel(request, None, location, "/public")

        @router.get("/live")
        async def live(signed_in: Viewer) -> Response:
            return StreamingResponse(
                self._live.stream(),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )

        @router.get("/stations")
        async def stations(request: Request, signed_in: Viewer) -> Response:
            page = await self._store.stations.list(limit=None)
            rows = [(station, self._connection(station.id)) for station in page.items]
            return self.page(request, "stations.html", signed_in, rows=rows)

        @router.get("/stations/{station_id}")
        async def station(request: Request, signed_in: Viewer, station_id: str) -> Response:
            found = await self._store.stations.get(station_id)
            sessions = await self._store.sessions.list(limit=20, filters={"station_id": station_id})
            report = await self._store.reports.latest(station_id)
            _ = self.translator(request)
            ordered = sorted(sessions.items, key=lambda item: item.start_date_time, reverse=True)
            active = next(
                (s.transaction_id for s in ordered if s.status is SessionStatus.ACTIVE), None
            )
            return self.page(
                request,
                "station.html",
                signed_in,
                station=found,
                connection=self._connection(station_id),
                evse_rows=await self._evse_rows(found),
                sessions=ordered,
                active_transaction=active,
                report=report,
                commands=PAGE_COMMANDS,
                command_names=_command_names(_),
                statuses=_map_strings(_),
            )

        @router.post("/stations/{station_id}/commands/{name}")
        async def command(
            request: Request, signed_in: Operator, station_id: str, name: str
        ) -> Response:
            _ = self.translator(request)
            kind = COMMANDS.get(name)
            if kind is None or name not in PAGE_COMMANDS:
                return JSONResponse({"ok": False, "message": _("No such command.")}, 404)
            form = {
                key: value
                for key, value in (await request.form()).items()
                if isinstance(value, str)
            }
            try:
                order = TypeAdapter(kind).validate_python(_form_body(name, form))
            except ValidationError as error:
                errors = [
                    {
                        "field": _FIELD_OF.get(str(item["loc"][0]), str(item["loc"][0])),
                        "message": item["msg"],
                    }
                    for item in error.errors()
                ]
                return JSONResponse(
                    {"ok": False, "message": _("Check the marked fields."), "errors": errors},
                    422,
                )
            try:
                result = await self._commands.run_command(station_id, order)
            except StationOfflineError:
                message = _("The station is offline: the command was not sent.")
                return JSONResponse({"ok": False, "message": message}, 409)
            except CallTimeoutError:
                message = _("The station did not answer in time.")
                return JSONResponse({"ok": False, "message": message}, 504)
            except CallFailedError as error:
                message = _("The station refused the call: %(code)s", code=error.code.value)
                return JSONResponse({"ok": False, "message": message}, 502)
            except InvalidInputError as error:
                return JSONResponse(
                    {
                        "ok": False,
                        "message": _("Check the marked fields."),
                        "errors": [{"field": error.field or "", "message": error.reason}],
                    },
                    422,
                )
            shown = TypeAdapter(type(result)).dump_python(result, mode="json")
            return JSONResponse({"ok": True, "message": _("Done."), "result": shown})

        @router.get("/sessions")
        async def sessions(
            request: Request,
            signed_in: Viewer,
            status: Annotated[str, Query(max_length=20)] = "",
            station: Annotated[str, Query(max_length=48)] = "",
            country: Annotated[str, Query(max_length=10)] = "",
        ) -> Response:
            _ = self.translator(request)
            invalid = {}
            if status and status not in SessionStatus.__members__.values():
                invalid["status"] = _("Choose a status from the list.")
            if country and not _COUNTRY.match(country):
                invalid["country"] = _("Two capital letters, like CL.")
            items: list[Any] = []
            if not invalid:
                filters = {
                    "status": status or None,
                    "station_id": station or None,
                    "country_code": country or None,
                }
                page = await self._store.sessions.list(limit=200, filters=filters)
                items = sorted(page.items, key=lambda item: item.start_date_time, reverse=True)
            return self.page(
                request,
                "sessions.html",
                signed_in,
                status_code=422 if invalid else 200,
                sessions=items,
                chosen={"status": status, "station": station, "country": country},
                invalid=invalid,
            )

        @router.get("/cdrs")
        async def cdrs(
            request: Request,
            signed_in: Viewer,
            country: Annotated[str, Query(max_length=10)] = "",
        ) -> Response:
            _ = self.translator(request)
            invalid = {}
            if country and not _COUNTRY.match(country):
                invalid["country"] = _("Two capital letters, like CL.")
            items: list[Any] = []
            if not invalid:
                page = await self._store.cdrs.list(
                    limit=200, filters={"country_code": country or None}
                )
                items = sorted(page.items, key=lambda item: item.end_date_time, reverse=True)
            return self.page(
                request,
                "cdrs.html",
                signed_in,
                status_code=422 if invalid else 200,
                cdrs=items,
                chosen={"country": country},
                invalid=invalid,
            )

        @router.get("/cdrs/{country_code}/{party_id}/{cdr_id}")
        async def cdr_page(
            request: Request, signed_in: Viewer, country_code: str, party_id: str, cdr_id: str
        ) -> Response:
            _ = self.translator(request)
            cdr = await self._store.cdrs.get(country_code, party_id, cdr_id)
            location = await self._store.locations.find(country_code, party_id, cdr.cdr_location.id)
            zone = location.time_zone if location is not None else "UTC"
            breakdown = None
            if cdr.tariffs and cdr.tariffs[0].currency == cdr.currency:
                pricing = price_cdr(compile_tariff(cdr.tariffs[0]), cdr, time_zone=zone)
                breakdown = [
                    {
                        "period": "—" if line.period is None else line.period + 1,
                        "start": local_time(line.start, zone),
                        "dimension": _dimension_words(_).get(line.dimension, line.dimension),
                        "volume": line.volume,
                        "unit": {"ENERGY": "kWh", "FLAT": "×"}.get(line.dimension, "h"),
                        "price": None if line.component is None else line.component.price,
                        "cost": line.cost,
                        "why": why(line, pricing, _language(_)),
                    }
                    for line in pricing.lines
                ]
            return self.page(
                request,
                "cdr.html",
                signed_in,
                cdr=cdr,
                time_zone=zone,
                breakdown=breakdown,
                local=lambda moment: moment.astimezone(ZoneInfo(zone)),
            )

        @router.get("/hardware")
        async def hardware(
            request: Request,
            signed_in: Viewer,
            country: Annotated[str, Query(max_length=10)] = "",
        ) -> Response:
            _ = self.translator(request)
            countries = known_countries()
            invalid = {}
            rules = report = None
            if country and country not in countries:
                invalid["country"] = _("Choose a country from the list.")
            elif country:
                rules = country_rules(country)
                report = await self._compliance.report(country)
            vehicles = sorted(vehicle_catalogue(), key=lambda v: v.name)
            named = [(code, _.country(code)) for code in countries]
            return self.page(
                request,
                "hardware.html",
                signed_in,
                status_code=422 if invalid else 200,
                country_options=[("", "—"), *sorted(named, key=lambda option: option[1])],
                chosen={"country": country},
                invalid=invalid,
                rules=rules,
                report=report,
                findings=[] if report is None else report.findings[:_FINDINGS_SHOWN],
                connectors=list(connector_catalogue()),
                vehicles=vehicles,
            )

        @router.get("/compatibility")
        async def compatibility_page(
            request: Request,
            signed_in: Viewer,
            vehicle: Annotated[str, Query(max_length=200)] = "",
            location: Annotated[str, Query(max_length=100)] = "",
        ) -> Response:
            return await self._compatibility(request, signed_in, vehicle.strip(), location.strip())

        @router.get("/roaming")
        async def roaming(request: Request, signed_in: Viewer) -> Response:
            return await self._roaming_page(request, signed_in)

        @router.post("/roaming/{partner_id}/retry")
        async def retry(request: Request, signed_in: Operator, partner_id: str) -> Response:
            roaming = self._require_roaming()
            await roaming.registrar.partners.get(partner_id)
            await roaming.outbox.repository.retry_now(partner_id, utc_now(), failed=True)
            roaming.outbox.wake(partner_id)
            return RedirectResponse("/roaming", status_code=303)

        @router.post("/roaming/invite")
        async def invite(
            request: Request,
            signed_in: Operator,
            name: Annotated[str, Form(max_length=200)] = "",
        ) -> Response:
            _ = self.translator(request)
            if not 1 <= len(name.strip()) <= 100:
                invalid = {"name": _("1 to 100 characters.")}
                return await self._roaming_page(request, signed_in, invalid=invalid, status=422)
            invitation = await self._require_roaming().registrar.invite(name.strip())
            return await self._roaming_page(request, signed_in, invitation=invitation)

        @router.post("/roaming/register")
        async def register(
            request: Request,
            signed_in: Operator,
            url: Annotated[str, Form(max_length=500)] = "",
            token: Annotated[str, Form(max_length=500)] = "",
        ) -> Response:
            _ = self.translator(request)
            invalid = {}
            if not url.startswith(("https://", "http://")):
                invalid["url"] = _("The versions URL the partner gave, starting with https://.")
            if not token.strip():
                invalid["token"] = _("The token the partner gave.")
            if invalid:
                return await self._roaming_page(request, signed_in, invalid=invalid, status=422)
            try:
                await self._require_roaming().registrar.register(url, token.strip(), None)
            except (PartnerError, OcpiError, IntercargaError) as error:
                invalid["url"] = str(error)
                return await self._roaming_page(request, signed_in, invalid=invalid, status=422)
            return RedirectResponse("/roaming", status_code=303)

        return router

    def _require_roaming(self) -> Roaming:
        if self._roaming is None:
            raise NotFoundError("this deployment does not roam")
        return self._roaming

    async def _roaming_page(
        self,
        request: Request,
        signed_in: SignedIn,
        *,
        invitation: Any = None,
        invalid: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        rows = []
        if self._roaming is not None:
            repository = self._roaming.outbox.repository
            page = await self._roaming.registrar.partners.list(limit=200)
            for partner in page.items:
                failed, _total = await repository.entries(
                    partner.id, state="FAILED", offset=0, limit=20
                )
                rows.append((partner, await repository.backlog(partner.id), failed))
        return self.page(
            request,
            "roaming.html",
            signed_in,
            status_code=status,
            rows=rows,
            roams=self._roaming is not None,
            invitation=invitation,
            invalid=invalid or {},
        )

    async def _compatibility(
        self, request: Request, signed_in: SignedIn, vehicle: str, location_id: str
    ) -> Response:
        """ "Can my car charge here?": one vehicle at one location, connector by connector."""
        _ = self.translator(request)
        invalid: dict[str, str] = {}
        location: Location | None = None
        verdict: CompatibilityResult | None = None
        if vehicle or location_id:
            if not vehicle:
                invalid["vehicle"] = _("Choose a vehicle from the list.")
            if not location_id:
                invalid["location"] = _("The location's ID, as its panel on the map shows it.")
            else:
                found = await self._store.locations.list(limit=1, filters={"id": location_id})
                location = found.items[0] if found.items else None
                if location is None:
                    invalid["location"] = _("No location has this ID.")
            if location is not None and vehicle:
                try:
                    verdict = compatibility(vehicle, location.country_code, location)
                except IntercargaError:
                    invalid["vehicle"] = _(
                        "Not in the catalogue for this country: choose one from the list."
                    )
        return self.page(
            request,
            "compatibility.html",
            signed_in,
            status_code=422 if invalid else 200,
            vehicle_options=[("", "—")] + [(name, name) for name in _vehicle_names()],
            chosen={"vehicle": vehicle, "location": location_id},
            invalid=invalid,
            location=location,
            verdict=verdict,
            reason=_reasons(_),
        )

    async def _panel(
        self, request: Request, signed_in: SignedIn | None, location: Location, base: str
    ) -> Response:
        """A location's panel: charging points, prices, country rules, "can my car charge"."""
        _ = self.translator(request)
        country_code, party_id = location.country_code, location.party_id
        tariffs: dict[str, list[str]] = {}
        for tariff_id in sorted(
            {t for evse in location.evses for c in evse.connectors for t in c.tariff_ids}
        ):
            tariff = await self._store.tariffs.find(country_code, party_id, tariff_id)
            if tariff is not None:
                tariffs[tariff_id] = explain_tariff(tariff, _language(_))
        try:
            compliance: ComplianceReport | None = comply(country_code, [location])
        except IntercargaError:
            compliance = None  # a country with no connector rules on record
        vehicle = request.query_params.get("vehicle", "")
        verdict: CompatibilityResult | None = None
        verdict_error = None
        if vehicle:
            try:
                verdict = compatibility(vehicle, country_code, location)
            except IntercargaError:
                verdict_error = _(
                    "Not in the catalogue for this country: choose one from the list."
                )
        return self.page(
            request,
            "location_panel.html",
            signed_in,
            location=location,
            tariffs=tariffs,
            compliance=compliance,
            vehicles=_vehicle_names(),
            vehicle=vehicle,
            reason=_reasons(_),
            verdict=verdict,
            verdict_error=verdict_error,
            statuses=_map_strings(_),
            base=base,
        )

    async def _markers(self, request: Request, *, published_only: bool) -> Response:
        found = await self._marker_json.json(published_only=published_only)
        headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(found.gzipped, media_type="application/json", headers=headers)
        return Response(found.body, media_type="application/json", headers=headers)

    def _outlines_file(self) -> Response:
        return FileResponse(
            self._outlines,
            media_type="application/geo+json",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    async def _evse_rows(self, station: Station) -> list[dict[str, Any]]:
        """The station's EVSEs with the status their Location holds."""
        rows = []
        for evse in station.evses:
            location = await self._store.locations.find(
                station.country_code, station.party_id, evse.location_id
            )
            found = None if location is None else location.evse(evse.evse_uid)
            status = EVSEStatus.UNKNOWN if found is None else found.status
            rows.append(
                {"ocpp_evse_id": evse.ocpp_evse_id, "uid": evse.evse_uid, "status": status.value}
            )
        return rows

    def _connection(self, station_id: str) -> dict[str, Any]:
        link = self._connections.link(station_id)
        if link is None or not link.open:
            return {"connected": False}
        return {
            "connected": True,
            "version": link.version.value,
            "connected_at": link.connected_at,
            "last_message_at": link.last_message_at,
            "frames": list(reversed(link.recent_frames)),
        }

    async def error_page(self, request: Request, status: int) -> Response:
        """A page saying what went wrong, with the navigation of whoever asked."""
        _ = self.translator(request)
        signed_in = await self._accounts.signed_in(request.cookies.get(SESSION_COOKIE))
        titles = {404: _("Page not found"), 405: _("This address cannot be used this way")}
        return self.page(
            request,
            "error.html",
            signed_in,
            status_code=status,
            title=titles.get(status, _("Something went wrong")),
            home="/map" if signed_in else "/public",
        )

    def refuse_anonymous(self, request: Request) -> Response:
        if request.url.path.endswith(".json") or request.url.path == "/live":
            return JSONResponse({"message": "sign in first"}, status_code=401)
        if request.method != "GET":
            return JSONResponse({"ok": False, "message": "sign in first"}, status_code=401)
        return self.sign_in_page(request, status_code=401, next_path=request.url.path)


def _language(_: Translator) -> Language:
    language: Language = "es" if _.language == "es" else "pt" if _.language == "pt" else "en"
    return language


def _vehicle_names() -> list[str]:
    return sorted({v.name for v in vehicle_catalogue()})


def _reasons(_: Translator) -> Callable[[ConnectorVerdict], str]:
    """Why a connector fits or not, in the page's language, from the verdict's facts."""
    words = Words.of(_)

    def reason(verdict: ConnectorVerdict) -> str:
        standard = words.standard(verdict.standard.value)
        inlet = "—" if verdict.inlet is None else words.standard(verdict.inlet.value)
        match verdict.method:
            case ChargeMethod.DIRECT:
                return _("The same standard as the car's inlet (%(inlet)s).", inlet=inlet)
            case ChargeMethod.MODE3_CABLE:
                return _(
                    "The station has a %(standard)s socket: bring a charging cable to the car's "
                    "%(inlet)s inlet.",
                    standard=standard,
                    inlet=inlet,
                )
            case ChargeMethod.MODE2_CABLE:
                return _("A household or industrial socket: the car's portable cable.")
            case ChargeMethod.CERTIFIED_ADAPTER:
                return _(
                    "An adapter from %(standard)s to the car's %(inlet)s inlet, supplied or "
                    "certified by the carmaker.",
                    standard=standard,
                    inlet=inlet,
                )
            case ChargeMethod.NONCOMPLIANT_ADAPTER:
                return _(
                    "Only an adapter would fit, and IEC 61851-1 forbids adapters between a "
                    "vehicle connector and its inlet."
                )
        if verdict.can_charge is None:
            return _("The car's inlets for this current are not known.")
        return _("%(standard)s does not fit any inlet of this car.", standard=standard)

    return reason


def _findings(_: Translator) -> Callable[[Finding], str]:
    """A compliance finding in the page's language, from its facts (not its English sentence)."""
    words = Words.of(_)

    def say(finding: Finding) -> str:
        standards = " / ".join(words.standard(s.value) for s in finding.standards)
        required = " / ".join(words.standard(s.value) for s in finding.required)
        current = words.power_type(finding.current)
        match finding.breach:
            case Breach.LACKS:
                text = _(
                    "%(current)s charging here lacks %(standards)s.",
                    current=current,
                    standards=standards,
                )
            case Breach.NOT_ADMITTED:
                text = _(
                    "Connector %(connector)s is %(standard)s; admitted: %(standards)s.",
                    connector=finding.connector_id or "—",
                    standard=standards,
                    standards=required,
                )
            case _:
                text = _(
                    "This %(current)s charging point offers %(offered)s; the rule requires "
                    "%(standards)s.",
                    current=current,
                    offered=standards,
                    standards=required,
                )
        if finding.due is not None and finding.severity is Severity.WARNING:
            text += " " + _("Must comply by %(date)s.", date=finding.due.isoformat())
        return text

    return say


def _dimension_words(_: Translator) -> dict[str, str]:
    return {
        "ENERGY": _("Energy"),
        "TIME": _("Charging time"),
        "PARKING_TIME": _("Parking time"),
        "RESERVATION_TIME": _("Reservation time"),
        "FLAT": _("Fixed fee"),
    }


def _command_names(_: Translator) -> dict[str, str]:
    return {
        "remote_start": _("Start charging"),
        "remote_stop": _("Stop charging"),
        "reset": _("Restart"),
        "unlock_connector": _("Unlock connector"),
        "change_availability": _("Availability"),
        "trigger_message": _("Ask for a message"),
        "get_variables": _("Read a variable"),
        "set_variables": _("Set a variable"),
    }


def _session_words(_: Translator) -> dict[str, str]:
    return {
        "ACTIVE": _("Charging"),
        "COMPLETED": _("Completed"),
        "INVALID": _("Invalid"),
        "PENDING": _("Pending"),
        "RESERVATION": _("Reserved"),
    }


def _map_strings(_: Translator) -> dict[str, Any]:
    """The words the map's script shows, in the page's language."""
    words = Words.of(_)
    return {
        **words.statuses,
        "standards": words.standards,
        "countries": _.countries(),
        "all": _("All"),
        "shown": _("%(count)s of %(total)s locations shown"),
        "live_on": _("Live"),
        "live_off": _("Reconnecting…"),
    }
