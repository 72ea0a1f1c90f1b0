"""A live view plays in Chromium: a recording camera streams to the served app, the viewer's page
reads it over the view's WebSocket into Media Source Extensions, and the video's time advances; the
page says the view is audited, and ending it stops the stream. axe-core finds no serious or critical
problem on the page while it plays or once it has ended."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import credentials
from openbwv.live import relay, views
from openbwv.policy import SYSTEM, Role
from tests.access.helpers import events
from tests.axe import serious_violations
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.helpers import stream_in_real_time
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_live_view_plays_in_the_browser_until_it_is_ended(
    settings: Settings, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    previous = relay.provide_relay(relay.EmbeddedRelay())
    with transaction(factory) as db:
        user = make_user(db, username="cr.jones", roles=[Role.CONTROL_ROOM])
        _, credential = credentials.issue_credential(db, SYSTEM, serial=SERIAL)
        request = views.ViewRequest(SERIAL, "officer-safety", incident_number="20261201-0007")
        view = views.open_view(
            db, auth.actor_for(user), request=request, recording=camera, options=views.ViewOptions()
        )
    stop = threading.Event()
    try:
        with serve(settings, factory) as base_url, sync_playwright() as playwright:
            camera_thread = threading.Thread(
                target=stream_in_real_time,
                args=(base_url, SERIAL, {"Authorization": f"Bearer {credential}"}, stop),
                daemon=True,
            )
            camera_thread.start()
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
            )
            page = browser.new_page()
            page.goto(f"{base_url}/login")
            page.get_by_label("Username").fill("cr.jones")
            page.get_by_label("Password").fill(DEFAULT_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("username")).to_have_text("cr.jones")
            page.goto(f"{base_url}/live/views/{view.id}")
            expect(page.get_by_test_id("banner")).to_contain_text("This live view is audited.")
            expect(page.get_by_test_id("stream-status")).to_have_text("Live.", timeout=15_000)
            page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=15_000)
            assert page.get_by_test_id("player").evaluate("video => video.error") is None
            assert serious_violations(page) == []
            page.get_by_role("button", name="End the live view").click()
            expect(page.get_by_test_id("not-live")).to_contain_text("This live view has ended.")
            assert serious_violations(page) == []
            browser.close()
            stop.set()
            camera_thread.join(30)
    finally:
        stop.set()
        relay.provide_relay(previous)
    with factory() as db:
        assert [e.details["transport"] for e in events(db, "live:stream:read")] == ["websocket"]
