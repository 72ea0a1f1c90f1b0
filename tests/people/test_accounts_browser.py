"""Accounts in Chromium: an admin sets a temporary password on the account's page; the user signs in
with it, is sent to change it before anything else, and then goes on. Both pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Role
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve

TEMPORARY = "temporary pass 1"
CHOSEN = "my own passphrase"


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_temporary_password_is_changed_at_the_next_sign_in(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="sysadmin", roles=[Role.ADMIN])
        make_user(db, username="auditor.one", roles=[Role.AUDITOR])
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def sign_in(username: str, password: str) -> Page:
            page = browser.new_context().new_page()
            page.goto(f"{base}/login")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("username")).to_have_text(username)
            return page

        admin = sign_in("sysadmin", DEFAULT_PASSWORD)
        admin.goto(f"{base}/users/auditor.one")
        assert serious_violations(admin) == []
        admin.get_by_label("Temporary password (at least 8 characters)").fill(TEMPORARY)
        admin.get_by_role("button", name="Set temporary password").click()
        expect(admin.get_by_role("status")).to_have_text(
            "Temporary password set: the user must change it when they next sign in."
        )

        user = sign_in("auditor.one", TEMPORARY)
        expect(user).to_have_url(f"{base}/account/password")
        assert serious_violations(user) == []
        user.goto(f"{base}/audit")
        expect(user).to_have_url(f"{base}/account/password")
        user.get_by_label("Current password").fill(TEMPORARY)
        user.get_by_label("New password (at least 8 characters)").fill(CHOSEN)
        user.get_by_label("New password again").fill(CHOSEN)
        user.get_by_role("button", name="Change password").click()
        expect(user.get_by_role("status")).to_have_text("Your password is changed.")
        user.goto(f"{base}/audit")
        expect(user).to_have_url(f"{base}/audit")
        browser.close()
