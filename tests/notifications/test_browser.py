from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv import notifications
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.notifications import Notice
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_supervisor_follows_the_bell_and_marks_the_notice_read(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        sergeant = make_officer(db, collar="6031", name="Ola Bello", rank="sergeant")
        constable = make_officer(db, collar="6032", name="Tom Reid")
        make_user(db, username="obello", roles=[Role.SUPERVISOR], officer=sergeant)
        notifications.notify(
            db,
            [
                Notice(
                    key="browser:supervisor",
                    kind="test",
                    recipient="supervisor",
                    officer_id=constable.id,
                    unit_id=constable.unit_id,
                    message="Taser authority of 6032 Tom Reid lapses on 2026-12-01.",
                )
            ],
        )
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base_url}/login")
        page.get_by_label("Username").fill("obello")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        bell = page.get_by_test_id("bell")
        expect(bell).to_have_accessible_name("Notifications: 1 unread")
        bell.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
        expect(page.get_by_text("Taser authority of 6032 Tom Reid lapses on 2026-12-01.")).to_be_visible()
        page.get_by_role("button", name="Mark read").click()
        expect(page.get_by_test_id("bell")).to_have_accessible_name("Notifications: 0 unread")
        expect(page.get_by_role("cell", name="read", exact=True)).to_be_visible()
        assert [line for line in console if "Content Security Policy" in line] == []
        browser.close()
