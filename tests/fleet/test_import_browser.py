"""Bulk import in Chromium at a phone's width: choose a file with a bad row, read the report row by row,
import the good rows; neither page scrolls sideways or has a serious accessibility violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import Role
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve

PHONE = ViewportSize(width=390, height=844)
DELIVERY = (
    "kind,serial,model\ncamera,IMP-B1,Axon Body 3\nphone,IMP-B2,Axon Body 3\ncamera,IMP-B3,Axon Body 3\n"
)


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_note_is_checked_row_by_row_then_its_good_rows_imported(
    settings: Settings, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
    note = tmp_path / "delivery-note.csv"
    note.write_text(DELIVERY, encoding="utf-8")
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("kit.manager")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("username")).to_have_text("kit.manager")
        page.goto(f"{base}/fleet/devices")
        page.get_by_role("link", name="Import devices from a delivery note").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Import from a file")
        expect(page.get_by_label("Devices, from a supplier's delivery note")).to_be_checked()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_violations(page) == []

        page.get_by_label("CSV file").set_input_files(note)
        page.get_by_role("button", name="Check file").click()
        expect(page.get_by_test_id("summary")).to_have_text(
            "3 rows read: 2 can be imported, 1 has a problem."
        )
        problems = page.get_by_test_id("problems").locator("tbody tr")
        expect(problems).to_have_count(1)
        expect(problems.first).to_have_text("3kind 'phone' must be one of camera, taser, dock")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_violations(page) == []
        with factory() as db:
            assert devices.get_device(db, "IMP-B1") is None

        page.get_by_role("button", name="Import the 2 good rows and skip the bad ones").click()
        expect(page.get_by_test_id("result")).to_have_text(
            "2 devices imported; 1 row with a problem skipped. See the fleet"
        )
        page.get_by_role("link", name="See the fleet").click()
        expect(page.get_by_role("link", name="IMP-B1")).to_be_visible()
        expect(page.get_by_role("link", name="IMP-B3")).to_be_visible()
        browser.close()
