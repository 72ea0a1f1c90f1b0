from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Role
from tests.audit.helpers import publish, record_events
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_auditor_finds_an_event_and_sees_its_proof_verified(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="mreid", roles=[Role.AUDITOR])
    (event_id,) = record_events(factory, 1, reason="Viewed clip for complaint 88/26")
    publish(factory, settings)
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base_url}/audit")
        page.get_by_label("Username").fill("mreid")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base_url}/audit")
        page.get_by_label("Reason contains").fill("complaint 88")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#result-count")).to_contain_text("1 event")
        page.get_by_role("link", name=str(event_id), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Audit event {event_id}")
        expect(page.get_by_test_id("proof-status")).to_contain_text("Verified: leaf")
        page.get_by_role("link", name="Audit", exact=True).click()
        page.get_by_role("link", name="Checkpoint and verification").click()
        page.get_by_role("button", name="Verify now").click()
        expect(page.get_by_test_id("notice")).to_contain_text("OK: ")
        browser.close()
