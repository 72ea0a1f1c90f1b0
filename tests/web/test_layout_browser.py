"""Every page the header links to, and the records they link to, at a phone's width: nothing scrolls
sideways (a table scrolls in its own box) and axe-core finds no serious or critical accessibility
violation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, fleet
from openbwv.audit import misuse
from openbwv.audit.misuse import FailedSignIns
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.taser import file_deployment
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_device, make_officer, make_pass, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve
from tests.taser.builders import make_clip, make_taser_holder, report_in

PHONE = ViewportSize(width=390, height=844)
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_linked_page_fits_a_phone_and_passes_axe(
    settings: Settings, factory: sessionmaker[Session], clock: FixedClock
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
        # A Taser with one bay loaded and one free (the cartridge forms), a dock holding a camera.
        make_device(db, kind="taser", serial="TX-PHONE-1")
        devices.load_cartridge(
            db,
            SYSTEM,
            taser_serial="TX-PHONE-1",
            serial="C-PHONE-1",
            lot="L1",
            expires_on=date(2027, 6, 30),
            bay=1,
        )
        make_device(db, kind="dock", serial="DOCK-PHONE-1")
        fleet.record_docking(db, dock_serial="DOCK-PHONE-1", camera_serial="CAM-PHONE-1", at=clock.now())
        clip = make_clip(
            db,
            camera="CAM-PHONE-2",
            start=datetime(2026, 11, 25, 21, 0, tzinfo=UTC),
            minutes=3,
            officer_id=officer.id,
        )
        for _ in range(10):
            audit.record(
                db,
                actor=Actor(username="j.bloggs"),
                action=audit.AuditAction.AUTH_LOGIN_FAILED,
                target=audit.Target("user", "j.bloggs"),
            )
    clock.advance(timedelta(seconds=1))
    (alert,) = misuse.run_misuse_rules(factory, now=clock.now(), rules=[FailedSignIns()])
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{base}/login")
        # The sign-in page, before anyone is signed in.
        assert serious_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
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
        # The checkpoint page after a verification run.
        page.goto(f"{base}/audit/checkpoint")
        page.get_by_role("button", name="Verify now").click()
        expect(page.get_by_role("status")).to_be_visible()
        assert serious_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto(f"{base}/audit")
        event = page.eval_on_selector("a[href^='/audit/events/']", "link => link.getAttribute('href')")
        # Besides the menu, the records those pages link to: a device in stock and one issued, a
        # Taser's cartridges, a dock's cameras, an officer's page, an account, an audit event, an alert,
        # a clip.
        records = [
            "/fleet/devices/new",
            "/fleet/imports",
            "/fleet/devices/CAM-PHONE-1",
            "/fleet/devices/CAM-PHONE-2",
            "/fleet/devices/TX-PHONE-1",
            "/fleet/devices/DOCK-PHONE-1",
            f"/footage/clips/{clip}",
            f"/audit/alerts/{alert.id}",
            "/officers/6100/kit",
            "/users/every.role",
            f"/taser/deployments/{report.id}",
            event,
            "/account/password",
            # Forms and lists the pages link to rather than the menu.
            "/users/new",
            "/taser/deployments/new",
            f"/taser/deployments/{report.id}/edit",
            "/footage/untagged",
            "/notifications",
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
