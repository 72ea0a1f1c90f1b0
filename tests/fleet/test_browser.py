"""The counter screen in a real browser: sign in, scan a serial, type a collar number, issue."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import devices, issues
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_device, make_officer, make_pass, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_counter_issues_a_camera_end_to_end(settings: Settings, factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
        officer = make_officer(db, collar="2468", name="Grace Green")
        make_pass(db, officer, "bwv_user", date(2026, 2, 1))
        make_device(db, serial="AXB3-0001")
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/login?next=/fleet/counter")
        page.fill("#username", "kit.manager")
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/fleet/counter")
        assert page.evaluate("document.activeElement.id") == "serial"
        page.keyboard.type("AXB3-0001")
        page.fill("#collar_number", "2468")
        page.click("button[type=submit] >> text=Issue or return")
        page.wait_for_selector("[data-testid=result]")
        assert page.inner_text("[data-testid=result]").startswith("AXB3-0001 issued to 2468 · Grace Green")
        browser.close()
    with factory() as db:
        camera = devices.get_device(db, "AXB3-0001")
        assert camera is not None and camera.state == "issued"
        held = issues.officer_kit(db, officer.id)
        assert [d.serial for _, d in held] == ["AXB3-0001"]
