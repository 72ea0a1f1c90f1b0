"""In Chromium: an officer files a Taser report on the form, placing it on the map; a supervisor signs
it off; the report shows the clip of the officer's camera linked to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Role
from openbwv.web.times import input_value
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve
from tests.taser.builders import make_clip, make_taser_holder


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_officer_files_on_the_form_and_a_supervisor_signs_it_off(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    at = (clock.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    with transaction(factory) as db:
        officer = make_taser_holder(db, collar="6401")
        clip_id = make_clip(
            db, camera="CAM-6401", officer_id=officer.id, start=at - timedelta(minutes=5), minutes=10
        )
        make_user(db, username="constable", roles=[Role.OFFICER], officer=officer)
        make_user(db, username="sergeant", roles=[Role.SUPERVISOR])
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()

        def sign_in(username: str) -> None:
            page.goto(f"{base_url}/login")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(DEFAULT_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("username")).to_have_text(username)

        sign_in("constable")
        page.get_by_role("link", name="Taser reports").click()
        page.get_by_role("link", name="File a report").click()
        expect(page.get_by_label("Collar number")).to_have_value("6401")
        expect(page.get_by_label("Taser serial")).to_have_value("TS-6401")
        page.get_by_label("When (Europe/London)").fill(input_value(at, settings.zone))
        page.get_by_label("Incident number").fill("INC-6401")
        page.get_by_test_id("taser-map").click()
        expect(page.get_by_label("Latitude")).not_to_have_value("")
        page.get_by_label("Latitude").fill("52.4862")
        page.get_by_label("Longitude").fill("-1.8904")
        page.get_by_label("Location type").select_option("street")
        for level in ("drawn", "red dot", "fired"):
            page.get_by_label(level, exact=True).check()
        page.get_by_label("Bay 1").check()
        page.get_by_label("protect self").check()
        page.get_by_label("Outcome").select_option("arrested")
        page.get_by_role("button", name="File report").click()
        expect(page.get_by_role("status")).to_contain_text("filed with 1 linked clip")
        expect(page.get_by_test_id("report-status")).to_contain_text("submitted, version 1")
        report_url = page.url.split("?")[0]

        sign_in("sergeant")
        page.goto(report_url)
        page.get_by_role("button", name="Sign off").click()
        expect(page.get_by_role("status")).to_have_text("Signed off.")
        expect(page.get_by_test_id("report-status")).to_contain_text(
            "signed off, version 1 (signed off by sergeant"
        )
        clips = page.get_by_test_id("linked-clips")
        expect(clips).to_contain_text("CAM-6401")
        expect(clips).to_contain_text("own camera")
        expect(clips.get_by_role("link", name=str(clip_id))).to_have_attribute(
            "href", f"/footage/clips/{clip_id}"
        )
        browser.close()
