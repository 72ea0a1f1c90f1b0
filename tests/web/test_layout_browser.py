"""Every page the header links to, and the records they link to, at a phone's width: nothing scrolls
sideways (a table scrolls in its own box) and axe-core finds no serious or critical accessibility
violation."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.taser import file_deployment
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_device, make_officer, make_pass, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve
from tests.taser.builders import make_taser_holder, report_in

PHONE = ViewportSize(width=390, height=844)
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_linked_page_fits_a_phone_and_passes_axe(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        # Linked to an officer whose Taser authority lapses within 30 days and who holds a camera, so
        # the home page shows every role's section, the lapse warning among them.
        officer = make_officer(db, collar="6100", name="Every Role")
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_pass(db, officer, "taser_initial", date(2025, 12, 16))
        make_user(db, username="every.role", roles=list(Role), officer=officer)
        make_device(db, serial="CAM-PHONE-1")
        make_device(db, serial="CAM-PHONE-2")
        fleet.issue_device(db, SYSTEM, device_serial="CAM-PHONE-2", collar_number="6100", kind="personal")
        make_taser_holder(db, collar="6101")
        report = file_deployment(db, SERGEANT, report_in("6101"))
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("every.role")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        expect(page.get_by_test_id("authority-warning")).to_contain_text("Taser authority")
        expect(page.get_by_test_id("rollout-figures")).to_be_visible()
        links = page.eval_on_selector_all(
            "nav[aria-label=Main] a", "links => links.map(link => link.getAttribute('href'))"
        )
        assert "/fleet/counter" in links and "/footage" in links
        page.goto(f"{base}/audit")
        event = page.eval_on_selector("a[href^='/audit/events/']", "link => link.getAttribute('href')")
        # Besides the menu, the records those pages link to: a device in stock and one issued, an
        # officer's page, an account, an audit event.
        records = [
            "/fleet/devices/new",
            "/fleet/imports",
            "/fleet/devices/CAM-PHONE-1",
            "/fleet/devices/CAM-PHONE-2",
            "/officers/6100/kit",
            "/users/every.role",
            f"/taser/deployments/{report.id}",
            event,
            "/account/password",
        ]
        found = {}
        for path in [*links, *records]:
            page.goto(f"{base}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            problems = serious_violations(page)
            if width > PHONE["width"] or problems:
                found[path] = (width, problems)
        assert found == {}
        browser.close()
