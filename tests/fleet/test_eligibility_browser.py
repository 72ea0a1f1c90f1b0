"""The eligibility policy in Chromium: a training manager withdraws a rule on the training page, with a
reason, and the table then shows it withdrawn; the page has no serious accessibility violation."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import training
from openbwv.policy import SYSTEM, Role
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_unit, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_training_manager_withdraws_an_eligibility_rule(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        make_user(db, username="stra.lead", roles=[Role.TRAINING_MANAGER])
        make_unit(db, code="ARV", name="Armed Response")
        rule = training.set_eligibility(
            db, SYSTEM, authority="taser", rank="sergeant", unit="ARV", eligible=False,
            effective_from=date(2026, 4, 1), reason="ARV sergeants not funded",
        )  # fmt: skip
        rule_id = rule.id
    with serve(settings, factory) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("stra.lead")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("username")).to_have_text("stra.lead")
        page.goto(f"{base}/training")
        row = page.locator(f"tr[data-rule='{rule_id}']")
        expect(row).to_contain_text("Sergeant")
        expect(row).to_contain_text("Armed Response (ARV)")
        expect(row).to_contain_text("in force")
        assert serious_violations(page) == []
        row.get_by_text(f"Withdraw or replace rule {rule_id}").click()
        row.get_by_label("Why withdraw it").fill("Refresher funded again for ARV")
        row.get_by_role("button", name=f"Withdraw rule {rule_id}").click()
        expect(page.get_by_role("status")).to_have_text(
            f"Eligibility rule {rule_id} withdrawn: it no longer applies from 2026-11-26."
        )
        row = page.locator(f"tr[data-rule='{rule_id}']")
        expect(row).to_contain_text("withdrawn from 2026-11-26")
        expect(row).to_contain_text("by stra.lead: Refresher funded again for ARV")
        expect(row.get_by_role("button", name=f"Withdraw rule {rule_id}")).to_have_count(0)
        assert serious_violations(page) == []
        browser.close()
