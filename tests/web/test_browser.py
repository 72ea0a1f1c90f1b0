from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_signing_in_through_the_page_shows_the_dashboard(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        officer = make_officer(db, collar="6021", name="Nadia Hussain", rank="sergeant")
        make_user(db, username="nhussain", roles=[Role.SUPERVISOR], officer=officer)
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base_url}/officers")
        expect(page).to_have_url(f"{base_url}/login?next=/officers")
        page.get_by_label("Username").fill("nhussain")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base_url}/officers")
        expect(page.get_by_role("cell", name="Nadia Hussain")).to_be_visible()
        page.get_by_role("link", name="Home").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nadia Hussain")
        expect(page.get_by_test_id("username")).to_have_text("nhussain")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{base_url}/login")
        page.goto(f"{base_url}/")
        expect(page).to_have_url(f"{base_url}/login?next=/")
        browser.close()


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_run_under_their_content_security_policy_without_a_violation(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="cspadmin", roles=[Role.ADMIN])
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        policies: list[str] = []
        page.on(
            "response", lambda response: policies.append(response.headers.get("content-security-policy", ""))
        )
        page.goto(f"{base_url}/login")
        page.get_by_label("Username").fill("cspadmin")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("username")).to_have_text("cspadmin")
        for path in ("/users", "/users/new", "/users/cspadmin"):
            page.goto(f"{base_url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert [line for line in console if "Content Security Policy" in line] == []
        assert policies and all("frame-ancestors 'none'" in policy for policy in policies)
        role_label = page.locator("input[name=roles]").first.locator("xpath=..")
        assert role_label.evaluate("label => getComputedStyle(label).fontWeight") == "400"
        browser.close()
