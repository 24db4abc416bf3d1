"""The dashboard in a real browser against a real ``intercarga serve`` (issue 15).

One deployment (the example network, SQLite, free ports) and one headless Debian chromium serve
the whole module; a simulated station (``intercarga simulate``) is connected to it. Each test
signs in as a person would and asserts only what that person sees. The screenshots of
docs/dashboard.md are taken here, so they always show the dashboard as it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from intercarga.dashboard import Catalogs
from tests.cli.test_commands import intercarga
from tests.ocpi.processes import CARD, PASSWORD, Server, configure, until

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).parents[2] / "docs" / "images"
STATION = "CL-ICG-0001"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is missing"),
    pytest.mark.timeout(300),
    pytest.mark.slow,
]

# The simulated station boots and waits, so that the dashboard decides when it charges.
IDLE = "name: idle\nsteps:\n  - boot\n  - wait: {seconds: 3600000}\n"


class Deployment:
    def __init__(self, server: Server, admin: str, viewer: str) -> None:
        self.server = server
        self.admin = admin
        self.viewer = viewer

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("dashboard") / "cpo"
    server = configure(folder, [("CL", "ICG", "CPO")], seed=True)
    server.start()
    simulator: subprocess.Popen[str] | None = None
    try:
        printed = until(
            lambda: re.search(
                r"as admin with password \(shown once\): (\S+)", server.log.read_text()
            ),
            30,
        )
        admin = printed.group(1)
        added = intercarga("users", "add", "vera", "--role", "viewer", cwd=folder)
        assert added.returncode == 0, added.stderr
        viewer = added.stdout.strip()
        with server.api() as api:
            station = {
                "id": STATION, "country_code": "CL", "party_id": "ICG",
                "ocpp_version": "ocpp2.0.1", "password": PASSWORD,
                "evses": [
                    {"ocpp_evse_id": 1, "location_id": "SCL-PROVIDENCIA", "evse_uid": "SCL-PROV-1"},
                    {"ocpp_evse_id": 2, "location_id": "SCL-PROVIDENCIA", "evse_uid": "SCL-PROV-2"},
                ],
            }  # fmt: skip
            assert api.put(f"/api/v1/stations/{STATION}", json=station).is_success
            token = {"country_code": "CL", "party_id": "ICG", "uid": CARD,
                     "contract_id": "CL-ICG-C00000001-Q", "issuer": "Intercarga Chile"}  # fmt: skip
            assert api.put(f"/api/v1/tokens/CL/ICG/{CARD}", json=token).is_success
        (folder / "idle.yaml").write_text(IDLE)
        simulator = subprocess.Popen(
            [
                sys.executable, "-m", "intercarga", "simulate", "--url", server.ocpp_url,
                "--stations", "1", "--ocpp", "2.0.1", "--id-prefix", "CL-ICG-",
                "--password", PASSWORD, "--speed", "600", "--scenario", str(folder / "idle.yaml"),
                "--json",
            ],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with server.api() as api:
            until(lambda: api.get(f"/api/v1/stations/{STATION}/connection").json()["connected"])
        yield Deployment(server, admin, viewer)
    finally:
        if simulator is not None:
            simulator.terminate()
            simulator.wait(timeout=20)
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_sync.Browser]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _page(
    browser: playwright_sync.Browser, language: str = "en", width: int = 1280
) -> playwright_sync.Page:
    context = browser.new_context(
        locale=language,
        extra_http_headers={"Accept-Language": language},
        viewport={"width": width, "height": 800},
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _sign_in(page: playwright_sync.Page, url: str, name: str, password: str) -> None:
    page.goto(url + "/")
    page.get_by_label(re.compile("^(Name|Nombre|Nome)$")).fill(name)
    page.get_by_label(re.compile("^(Password|Contraseña|Senha)$")).fill(password)
    page.locator("form[action='/sign-in'] button").click()


def _shot(page: playwright_sync.Page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"dashboard-{name}.png"))


def test_sign_in_refuses_a_wrong_password_and_opens_the_map(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    page = _page(browser)
    page.goto(deployment.url + "/")
    _shot(page, "sign-in")
    # The open map needs no sign-in (published locations, no live operations).
    page.get_by_role("link", name="Public charging map").first.click()
    playwright_sync.expect(page.locator(".marker[data-location]")).to_have_count(3)
    playwright_sync.expect(page.get_by_role("link", name="Stations")).to_have_count(0)
    page.goto(deployment.url + "/")
    _sign_in(page, deployment.url, "admin", "not-the-password")
    alert = page.get_by_role("alert")
    playwright_sync.expect(alert).to_have_text("Wrong name or password.")
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    # Nothing behind the sign-in opened: the map still asks for it.
    page.goto(deployment.url + "/map")
    playwright_sync.expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _sign_in(page, deployment.url, "admin", deployment.admin)
    page.wait_for_url("**/map")
    playwright_sync.expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.context.close()


def test_the_map_draws_the_example_network_and_filters_it(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    page = _page(browser)
    _sign_in(page, deployment.url, "admin", deployment.admin)
    markers = page.locator(".marker[data-location]")
    playwright_sync.expect(markers).to_have_count(3)
    playwright_sync.expect(page.locator("#shown")).to_have_text("3 of 3 locations shown")
    # The basemap is drawn from the package's outlines, not from a tile server.
    assert page.locator(".leaflet-tile").count() == 0
    playwright_sync.expect(page.locator(".leaflet-overlay-pane path")).not_to_have_count(0)
    assert page.locator(".leaflet-overlay-pane path").count() >= 30  # the 33 countries
    page.get_by_label("Country").select_option("CO")
    playwright_sync.expect(markers).to_have_count(1)
    assert markers.first.get_attribute("data-location") == "CO/ICG/BOG-USAQUEN"
    page.get_by_label("Country").select_option("")
    page.get_by_label("Minimum power").select_option("150")
    playwright_sync.expect(page.locator("#shown")).to_have_text(re.compile(r"^[12] of 3"))
    page.get_by_label("Minimum power").select_option("0")
    playwright_sync.expect(markers).to_have_count(3)
    page.locator('.marker[data-location="CL/ICG/SCL-PROVIDENCIA"]').click()
    panel = page.locator("#panel")
    playwright_sync.expect(
        panel.get_by_role("heading", name="Electrolinera Providencia")
    ).to_be_visible()
    playwright_sync.expect(panel.get_by_role("heading", name="Prices")).to_be_visible()
    _shot(page, "map")
    page.context.close()


def test_a_remote_start_from_the_station_page_shows_live_on_the_map_and_the_page(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    map_page = _page(browser)
    _sign_in(map_page, deployment.url, "admin", deployment.admin)
    marker = map_page.locator('.marker[data-location="CL/ICG/SCL-PROVIDENCIA"]')
    playwright_sync.expect(marker).to_have_attribute("data-status", "AVAILABLE")
    playwright_sync.expect(map_page.locator("#live-status")).to_have_text("Live")

    page = map_page.context.new_page()
    page.goto(f"{deployment.url}/stations/{STATION}")
    playwright_sync.expect(page.locator("#connection")).to_have_text("Online")
    playwright_sync.expect(page.locator("#live-status")).to_have_text("Live")
    evse = page.locator('[data-evse="SCL-PROV-1"]')
    playwright_sync.expect(evse).to_have_attribute("data-status", "AVAILABLE")
    start = page.locator('form[data-command="remote_start"]')
    start.get_by_role("button", name="Send").click()
    playwright_sync.expect(start.locator("output")).to_have_text(re.compile("^Done."))
    # Without a reload: the EVSE charges on the page and on the map, the session shows.
    playwright_sync.expect(evse).to_have_attribute("data-status", "CHARGING", timeout=5_000)
    playwright_sync.expect(marker).to_have_attribute("data-status", "CHARGING", timeout=2_000)
    playwright_sync.expect(
        page.locator("#sessions-table [data-session-status]").first
    ).to_have_text("Charging", timeout=5_000)
    _shot(page, "station")
    map_page.bring_to_front()
    _shot(map_page, "map-live")
    # A mistake in a form: the field is marked and named, and nothing is sent.
    stop = page.locator('form[data-command="unlock_connector"]')
    stop.get_by_label("Charging point number").fill("first")
    stop.get_by_role("button", name="Send").click()
    playwright_sync.expect(stop.locator("output")).to_have_text("Check the marked fields.")
    field = stop.get_by_label("Charging point number")
    assert field.get_attribute("aria-invalid") == "true"
    playwright_sync.expect(stop.locator(".field-error")).to_contain_text("Charging point number")

    # Stopped from the page, the session becomes a priced CDR whose lines add up to its total.
    page.reload()
    ending = page.locator('form[data-command="remote_stop"]')
    assert ending.get_by_label("Transaction").input_value() != ""
    ending.get_by_role("button", name="Send").click()
    playwright_sync.expect(ending.locator("output")).to_have_text(re.compile("^Done."))
    # The station ends the transaction after accepting the stop, and the CDR follows it: the
    # list is read again until it shows (a page loaded before the CDR existed never would).
    page.goto(deployment.url + "/cdrs")
    deadline = time.monotonic() + 30
    while page.locator("#cdrs tbody a").count() == 0:
        assert time.monotonic() < deadline, "no CDR listed 30 s after the stop"
        page.wait_for_timeout(500)
        page.reload()
    page.locator("#cdrs tbody a").first.click()
    lines = page.locator("#breakdown tbody tr")
    playwright_sync.expect(lines).not_to_have_count(0)
    costs = [
        Decimal(cost or "") for cost in lines.evaluate_all("rows => rows.map(r => r.dataset.cost)")
    ]
    total = page.locator("#total-before-taxes")
    stated = Decimal(total.get_attribute("data-total") or "")
    assert sum(costs).quantize(Decimal(1), ROUND_HALF_UP) == stated > 0
    # No decimals, and the code kept apart from the digits (CLDR's currency spacing).
    playwright_sync.expect(total).to_have_text(re.compile(r"^CLP\s\d{1,3}(,\d{3})*$"))
    _shot(page, "cdr")
    map_page.context.close()


def test_the_language_switch_changes_every_visible_string(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    translated = {
        message: translation
        for message, translation in Catalogs().messages("pt").items()
        if translation != message
    }
    page = _page(browser)
    _sign_in(page, deployment.url, "admin", deployment.admin)

    def visible_strings() -> set[str]:
        texts: list[str] = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter(el => el.offsetParent !== null || el.tagName === 'OPTION')
                .flatMap(el => Array.from(el.childNodes)
                    .filter(n => n.nodeType === 3).map(n => n.textContent.trim()))
                .concat(Array.from(document.querySelectorAll('[aria-label]'))
                    .map(el => el.getAttribute('aria-label')))
                .filter(Boolean)"""
        )
        return set(texts)

    def settled() -> None:
        """The page's scripts ran: the live stream is open (and the map drew its markers)."""
        if page.locator("script[src$='live.js']").count():
            playwright_sync.expect(page.locator("#live-status.on")).to_have_count(1)
        if page.url.endswith("/map"):
            playwright_sync.expect(page.locator(".marker")).to_have_count(3)

    # Words from data must not show as their codes (IEC_62196_T2, AC_3_PHASE, AVAILABLE).
    codes = re.compile(r"\b[A-Z0-9]+_[A-Z0-9_]+\b|\b(AVAILABLE|CHARGING|UNKNOWN|DC|AC)\b")

    def shown_codes() -> set[str]:
        """Codes outside <code> (the catalogue names each standard by its OCPI code there)."""
        texts: list[str] = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter(el => el.offsetParent !== null && !el.closest('code'))
                .flatMap(el => Array.from(el.childNodes)
                    .filter(n => n.nodeType === 3).map(n => n.textContent.trim()))
                .filter(Boolean)"""
        )
        return {text for text in texts if codes.search(text)}

    pages = (
        "/stations",
        f"/stations/{STATION}",
        "/map",
        "/hardware?country=CO",  # Colombia's rules, and the example network's violation there
        "/compatibility?vehicle=BYD+Dolphin&location=SCL-PROVIDENCIA",
        "/no-such-page",
    )
    for path in pages:
        page.goto(deployment.url + path)
        settled()
        english = visible_strings() & set(translated)
        assert len(english) >= 10, english
        page.get_by_role("link", name="PT Português").click()
        page.wait_for_url("**" + path)
        settled()
        left = visible_strings() & set(translated)
        assert left == set(), f"{path}: still in English: {left}"
        assert shown_codes() == set(), f"{path}: codes shown as words: {shown_codes()}"
        if path.startswith("/hardware"):
            _shot(page, "hardware-pt")
        assert {translated[m] for m in english} <= visible_strings()
        page.get_by_role("link", name="EN English").click()
        page.wait_for_url("**" + path)
    page.context.close()


def test_the_compatibility_page_and_a_missing_page(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    page = _page(browser)
    _sign_in(page, deployment.url, "admin", deployment.admin)
    page.wait_for_url("**/map")
    page.get_by_role("link", name="Hardware").click()
    page.get_by_role("link", name="Can my car charge here?").click()
    page.get_by_label("Vehicle").select_option("BYD Dolphin")
    page.get_by_label("Location ID").fill("SAO-PAULISTA")
    page.get_by_role("button", name="Check").click()
    playwright_sync.expect(page.locator("#verdict")).to_contain_text("Yes, up to")
    playwright_sync.expect(page.locator("#connectors tbody tr")).not_to_have_count(0)
    _shot(page, "compatibility")
    # A mistake: the field is marked and named.
    page.get_by_label("Location ID").fill("NOWHERE")
    page.get_by_role("button", name="Check").click()
    playwright_sync.expect(page.locator("#filter-location-error")).to_have_text(
        "Location ID: No location has this ID."
    )
    assert page.get_by_label("Location ID").get_attribute("aria-invalid") == "true"
    # An address that is not there: a page in the visitor's language, not JSON.
    answer = page.goto(deployment.url + "/no-such-page")
    assert answer is not None and answer.status == 404
    playwright_sync.expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Back to the map").click()
    page.wait_for_url("**/map")
    page.context.close()


def test_a_viewer_sees_no_command_and_cannot_send_one(
    deployment: Deployment, browser: playwright_sync.Browser
) -> None:
    page = _page(browser, width=390)  # a phone
    _sign_in(page, deployment.url, "vera", deployment.viewer)
    page.wait_for_url("**/map")
    page.goto(f"{deployment.url}/stations/{STATION}")
    playwright_sync.expect(
        page.get_by_text("Your role may look but not send commands.")
    ).to_be_visible()
    assert page.locator("form[data-command]").count() == 0
    _shot(page, "station-phone")
    answer = page.evaluate(
        """async (station) => {
            const csrf = document.querySelector('form.sign-out input[name=csrf]').value;
            const r = await fetch('/stations/' + station + '/commands/reset', {
                method: 'POST', headers: {'X-CSRF-Token': csrf}, body: new URLSearchParams()});
            return [r.status, await r.json()];
        }""",
        STATION,
    )
    assert answer[0] == 403, answer
    page.context.close()
