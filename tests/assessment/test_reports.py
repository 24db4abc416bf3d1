"""The reports open where their readers open them: the region's PDF renders (pdftoppm), its
HTML shows the heat map in Debian's chromium, one row per country file; charts are SVG with no
outside reference."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intercarga.assessment import (
    CountryReport,
    ReportFormat,
    assess,
    framework,
    load_countries,
    recommend,
    region_html,
    render_country,
)
from intercarga.assessment.countries import country_files
from intercarga.cli import app
from tests.assessment.conftest import FIXTURES, NOW

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


def _region(tmp_path: Path, fmt: str, language: str = "en") -> Path:
    target = tmp_path / f"region.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "assess",
            "--region",
            "LAC",
            "--format",
            fmt,
            "--language",
            language,
            "--data",
            str(FIXTURES),
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.stderr
    return target


def _need(program: str) -> None:
    """Skip without the system program, except in CI (INTERCARGA_REQUIRE_SERVICES=1), where
    .ci/run installs it and its absence is a failure."""
    if shutil.which(program) is None:
        message = f"{program} is not installed (.ci/run installs it with apt-get)"
        if os.environ.get("INTERCARGA_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


def test_the_region_pdf_renders_its_first_page(tmp_path: Path) -> None:
    _need("pdftoppm")
    pdf = _region(tmp_path, "pdf", "es")
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (page,) = tmp_path.glob("page-*.png")
    assert page.stat().st_size > 10_000  # a page with a table, not a blank one
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    words = " ".join(text.split())
    assert "Evaluación de interoperabilidad: América Latina y el Caribe" in words
    assert "Colombia" in words and "Costa Rica" in words and "Haití" in words


def test_the_region_html_shows_one_heat_map_row_per_country_in_chromium(tmp_path: Path) -> None:
    _need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    page_file = _region(tmp_path, "html")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(page_file.as_uri())
            rows = page.locator("table.heatmap tbody tr")
            assert rows.count() == len(country_files(FIXTURES)) == 3
            assert rows.nth(0).get_attribute("data-country") == "CO"
            assert page.locator("table.heatmap thead th").all_inner_texts()[2:7] == [
                "Hardware",
                "Communication",
                "Information",
                "Service",
                "Business",
            ]
            images = page.locator("img")
            assert images.count() == 4  # ranking + one radar per country
            assert all(
                page.evaluate("(img) => img.complete && img.naturalWidth > 0", handle)
                for handle in images.element_handles()
            )
            page.screenshot(path=str(tmp_path / "region.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "region.png").stat().st_size > 10_000


def test_the_region_heat_map_of_the_package_data_has_33_rows() -> None:
    found = [assess(framework(), c, NOW) for c in load_countries().values()]
    html = region_html(found, framework(), "en")
    assert len(re.findall(r"<tr data-country=", html)) == 33


def test_charts_are_svg_without_scripts_from_elsewhere() -> None:
    countries = load_countries(FIXTURES)
    html = region_html([assess(framework(), c, NOW) for c in countries.values()], framework(), "en")
    uris = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(uris) == 4
    for uri in uris:
        svg = base64.b64decode(uri).decode("utf-8")
        assert svg.startswith("<svg")
        assert "//kozea.github.io" not in svg and "<script src" not in svg
    assert "http://" not in html.split('<ol class="sources">')[0].replace("http://www.w3.org", "")


def test_a_country_report_explains_each_level_and_cites_the_precedents() -> None:
    co = assess(framework(), load_countries(FIXTURES)["CO"], NOW)
    html = render_country(
        CountryReport(assessment=co, recommendations=recommend(co), history=[]),
        framework(),
        "en",
        ReportFormat.HTML,
    ).decode("utf-8")
    assert "communication.ocpp 2: OCPP 1.6 or later is recommended" in html
    assert "Regional precedent" in html and "Res. MME 40559/2025" in html
    assert "Desk facts only" in html
