"""Everyday fleet pages in Chromium: the counter's scan and Enter, adding devices and reporting one
lost, the phone-width layout, and no serious accessibility violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import Role
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_device, make_officer, make_pass, make_unit, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve

PHONE = ViewportSize(width=390, height=844)


@contextmanager
def signed_in(
    settings: Settings, factory: sessionmaker[Session], *, viewport: ViewportSize | None = None
) -> Iterator[tuple[Page, str]]:
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport) if viewport else browser.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("kit.manager")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("username")).to_have_text("kit.manager")
        try:
            yield page, base
        finally:
            browser.close()


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id"))


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_counter_returns_and_issues_on_scan_and_enter(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
        unit = make_unit(db, code="CNPT", name="Coventry Neighbourhood")
        officer = make_officer(db, collar="2468", name="Grace Green", unit=unit)
        make_pass(db, officer, "bwv_user", date(2026, 2, 1))
        make_device(db, serial="AXB3-0001")
    with signed_in(settings, factory) as (page, base):
        page.goto(f"{base}/fleet/counter")
        assert _focused(page) == "serial"
        assert serious_violations(page) == []
        page.keyboard.type("axb3-0001")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("result")).to_contain_text("Camera AXB3-0001 (Axon Body 3) is in stock.")
        assert _focused(page) == "collar_number"
        page.keyboard.type("2468")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("result")).to_have_text(
            "AXB3-0001 issued to 2468 · Grace Green · Coventry Neighbourhood"
        )
        assert _focused(page) == "serial"
        page.keyboard.type("AXB3-0001")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("result")).to_have_text(
            "AXB3-0001 returned by 2468 · Grace Green · Coventry Neighbourhood"
        )
        today = page.get_by_test_id("today")
        expect(today.locator("tbody tr")).to_have_count(2)
        page.get_by_role("button", name="Undo the returned of AXB3-0001").click()
        expect(page.get_by_test_id("result")).to_contain_text("AXB3-0001 return undone: back with 2468")
        page.keyboard.type("NO-SUCH-1")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_have_text("No such device: NO-SUCH-1.")
        assert _focused(page) == "serial"
        assert serious_violations(page) == []
    with factory() as db:
        camera = devices.get_device(db, "AXB3-0001")
        assert camera is not None and camera.state == "issued"


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_adding_devices_by_scanning_and_reporting_one_lost(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
        make_officer(db, collar="1357")
    with signed_in(settings, factory) as (page, base):
        page.goto(f"{base}/fleet/devices")
        assert serious_violations(page) == []
        page.get_by_role("link", name="Add devices").click()
        page.get_by_label("Model").fill("Axon Body 4")
        page.get_by_label("Station (if known)").fill("Coventry")
        for serial in ("AB4-0001", "AB4-0002", "AB4-0003"):
            page.get_by_label("Serial").fill(serial)
            page.keyboard.press("Enter")
            expect(page.get_by_test_id("result")).to_have_text(f"{serial} added.")
            assert _focused(page) == "serial"
        expect(page.get_by_test_id("received-count")).to_have_text("3 devices")
        assert page.get_by_label("Model").input_value() == "Axon Body 4"
        page.get_by_label("Serial").fill("AB4-0002")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_have_text("A device with serial AB4-0002 is already registered.")
        assert page.get_by_label("Serial").input_value() == "AB4-0002"
        assert serious_violations(page) == []
        page.get_by_role("link", name="AB4-0003").click()
        page.get_by_label("What happened").select_option("lost")
        page.get_by_role("button", name="Change state").click()
        expect(page.get_by_role("alert")).to_have_text("Say where and when it was lost.")
        page.get_by_label("What happened").select_option("lost")
        page.get_by_label("Note (for a loss or theft: where, when, crime reference)").fill(
            "Left on the 17 bus, 25 November"
        )
        page.get_by_role("button", name="Change state").click()
        expect(page.get_by_test_id("result")).to_have_text("Camera AB4-0003 is now lost.")
        expect(page.get_by_test_id("state")).to_have_text("lost")
        expect(page.get_by_test_id("missing")).to_contain_text("Left on the 17 bus, 25 November")
        assert serious_violations(page) == []
        page.goto(f"{base}/fleet/counter")
        # autofocus lands after the load event: keys typed before it went nowhere ("B4-0003").
        expect(page.locator("#serial")).to_be_focused()
        page.keyboard.type("AB4-0003")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Camera AB4-0003 was reported lost on")
    with factory() as db:
        lost = devices.get_device(db, "AB4-0003")
        assert lost is not None and lost.state == "lost" and lost.station == "Coventry"


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_at_phone_width_the_menu_folds_and_nothing_scrolls_sideways(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
        for number in range(3):
            make_device(
                db, serial=f"A-VERY-LONG-SERIAL-NUMBER-{number:04d}", model="Axon Body 3 with a long name"
            )
    with signed_in(settings, factory, viewport=PHONE) as (page, base):
        for path in ("/", "/fleet/counter", "/fleet/devices", "/fleet/devices/new"):
            page.goto(f"{base}{path}")
            menu = page.get_by_role("button", name="Menu")
            expect(menu).to_be_visible()
            expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width}px wide"
            assert serious_violations(page) == []
            menu.click()
            expect(menu).to_have_attribute("aria-expanded", "true")
            expect(page.get_by_role("link", name="Issue and return")).to_be_visible()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("link", name="Fleet", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fleet")
