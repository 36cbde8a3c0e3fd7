"""The officers' web page in a real headless Chromium: log in, inbox, home, case, clocks.

Uses the machine's Debian `chromium` through Playwright (never Playwright's own browser
downloads) against the app served by uvicorn in a thread. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from tests.api.server import serve
from tests.api.world import PASSWORD, World, api_settings

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)


@pytest.fixture(scope="module")
def base_url(api_database_url: str, world: World) -> Iterator[str]:
    """The app served by a real uvicorn on a free port, for the module's tests."""
    with serve(create_app(api_settings(api_database_url))) as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:
    """A Chromium page (1280x900) with no session yet."""
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
        yield context.new_page()
        context.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_officer_works_an_alert_into_a_case(page: Any, world: World) -> None:
    """Log in, see the inbox, open a home and its charts, open a case from an alert, record
    an investigation and see its clock met and the written-summary clock start."""
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    page.get_by_label("Email").fill(world.officer_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    inbox = page.locator("table.alerts tbody tr")
    assert inbox.count() == len(world.a.alert_ids)
    assert "RED" in inbox.first.inner_text()
    shot(page, "01-inbox")

    page.get_by_role("link", name=f"1 Test Street, {world.a.borough_code}").first.click()
    page.wait_for_url(f"**/homes/{world.a.uprns[0]}")
    assert page.locator("svg#chart-temperature polyline").count() >= 2
    assert page.locator("svg#chart-humidity polyline").count() >= 1
    assert page.locator("svg#chart-mould").count() == 1
    shot(page, "02-home")

    page.goto("/")
    page.get_by_role("link", name="Damp and mould risk (red)").click()
    page.wait_for_url(f"**/alerts/{world.a.alert_ids[0]}")
    page.get_by_label("Hazard").select_option("significant")
    page.get_by_role("button", name="Open a case").click()
    page.wait_for_url("**/cases/*")
    investigation = page.locator("section.clock", has_text="Investigate the hazard")
    assert "ON TRACK" in investigation.inner_text()
    assert page.locator("section.clock", has_text="written summary").count() == 0
    shot(page, "03-case-opened")

    page.get_by_label("What happened").select_option("investigation_completed")
    page.get_by_label("Note").fill("Mould behind the wardrobe; extractor fan not working.")
    page.get_by_role("button", name="Record").click()
    page.wait_for_selector("text=Recorded.")
    assert "MET" in investigation.inner_text()
    summary = page.locator("section.clock", has_text="written summary")
    assert "ON TRACK" in summary.inner_text() or "DUE SOON" in summary.inner_text()
    assert "investigation completed" in page.locator("ol.events").inner_text()
    shot(page, "04-investigation-recorded")


def test_sensor_health_page_lists_the_boroughs_sensors(page: Any, world: World) -> None:
    """The sensor page (after login) lists each of the borough's sensors with its health."""
    page.goto("/sensors")
    if "/login" in page.url:
        page.get_by_label("Email").fill(world.officer_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/sensors")
    text = page.locator("main").inner_text()
    assert all(sensor_id in text for sensor_id in world.a.sensor_ids)
    assert not any(sensor_id in text for sensor_id in world.b.sensor_ids)
    shot(page, "05-sensors")


def test_chromium_binary_is_the_debian_one() -> None:
    """The browser tests drive the system's chromium, not a downloaded build."""
    assert shutil.which("chromium") == str(CHROMIUM)
