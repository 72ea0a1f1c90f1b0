"""The live map in a real browser: a recording camera appears on the map and in the list, its next
message moves it and changes its state without a reload, and live view asked for with a reason
plays the camera's stream."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx2
import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.live import relay
from openbwv.policy import Role
from openbwv.web.vendor import library_dir
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live.helpers import BIRMINGHAM, TELEMETRY, payload, reporting_camera, stream_in_real_time
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve

ROW = "[data-testid=camera-row][data-serial=CAM-B1]"
MARKER = ".leaflet-marker-icon[title^='CAM-B1']"


def _marker_at(page: Page) -> tuple[float, float]:
    box = page.locator(MARKER).bounding_box()
    assert box is not None
    return box["x"], box["y"]


def _note_error(problems: list[str], message: ConsoleMessage) -> None:
    """Console errors (a script's, or a file the security policy refused), but the site's missing icon."""
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        problems.append(message.text)


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_map_shows_a_recording_camera_and_follows_its_messages(
    settings: Settings, factory: sessionmaker[Session], clock: FixedClock
) -> None:
    assert library_dir(settings, "leaflet") is not None, "Leaflet is not installed: run make (npm ci)"
    with transaction(factory) as db:
        make_user(db, username="controller", roles=[Role.CONTROL_ROOM])
    camera = reporting_camera(factory, serial="CAM-B1", collar="6101", unit_code="TRAF")
    problems: list[str] = []
    live, stop = relay.EmbeddedRelay(), threading.Event()
    previous = relay.provide_relay(live)
    with serve(settings, factory) as base, httpx2.Client(base_url=base) as http, sync_playwright() as pw:
        assert http.post(TELEMETRY, json=payload(recording=True), headers=camera).status_code == 202
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda message: _note_error(problems, message))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base}/login?next=/live/map")
        page.fill("#username", "controller")
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/live/map")

        page.wait_for_selector(f"{ROW}[data-state=recording]", timeout=5000)
        assert "6101 Sam Patel" in page.inner_text(ROW)
        assert "Recording" in page.inner_text(ROW)
        # Last seen on the force's clocks (the fixed clock stands at 08:00 UTC in November, GMT).
        assert "08:00:00 GMT" in page.inner_text(ROW)
        marker = page.locator(MARKER)
        assert "cam-recording" in (marker.get_attribute("class") or "")
        assert marker.get_attribute("title") == "CAM-B1: Recording"
        before = _marker_at(page)
        page.evaluate("window.sameDocument = true")

        clock.advance(timedelta(seconds=5))
        moved = payload(recording=False, lat=BIRMINGHAM[0] + 0.004, battery_pct=41)
        assert http.post(TELEMETRY, json=moved, headers=camera).status_code == 202
        page.wait_for_selector(f"{ROW}[data-state=idle]", timeout=5000)
        assert page.evaluate("window.sameDocument") is True
        assert "41 %" in page.inner_text(ROW)
        assert "cam-idle" in (marker.get_attribute("class") or "")
        assert _marker_at(page) != before

        clock.advance(timedelta(seconds=5))
        assert http.post(TELEMETRY, json=payload(recording=True), headers=camera).status_code == 202
        page.wait_for_selector(f"{ROW}[data-state=recording]", timeout=5000)
        page.click(f"{ROW} button")
        page.wait_for_selector("#live-view-reason option[value=incident-response]", state="attached")
        page.select_option("#live-view-reason", "incident-response")
        page.fill("#live-view-incident", "INC-2026-0042")
        page.click("#live-view-form button[type=submit]")
        page.wait_for_selector("[data-testid=live-view-result].ok", timeout=5000)
        assert page.inner_text("[data-testid=live-view-result]").startswith(
            "Live view open until 08:10 GMT; it is audited."
        )
        watch = page.get_attribute("[data-testid=live-view-result] a", "href")
        assert watch is not None and watch.startswith("/live/views/")

        page.select_option("#filter-unit", "TRAF")
        page.uncheck("input[name=state][value=recording]")
        page.wait_for_selector(ROW, state="detached")
        assert page.locator(MARKER).count() == 0
        # The camera streams while it records; the view's page plays it.
        streaming = threading.Thread(
            target=stream_in_real_time, args=(base, "CAM-B1", camera, stop), daemon=True
        )
        streaming.start()
        while not live.is_live("CAM-B1"):
            time.sleep(0.05)
        page.goto(f"{base}{watch}")
        page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=15_000)
        stop.set()
        streaming.join(30)
        browser.close()
    stop.set()
    relay.provide_relay(previous)
    assert problems == [], problems
