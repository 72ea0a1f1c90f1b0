"""A real H.264 clip plays in Chromium from the clip's page, once a reason is stated: the player's
Range requests come from storage through one grant, and the page says viewing is recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.policy import Role
from openbwv.storage import open_store
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.footage.helpers import (
    GPS_TRACK,
    events,
    holder_of_camera,
    make_video,
    run_ingest,
    run_probe,
    upload,
)
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clip_plays_in_the_browser_once_a_reason_is_stated(
    settings: Settings, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    officer, serial = holder_of_camera(factory, collar="7001")
    video = make_video(tmp_path / "play.mp4", seconds=4.0, metadata={"creation_time": "2026-11-26T04:59:58Z"})
    run_ingest(settings, factory, upload(open_store(settings), video, camera_serial=serial))
    with transaction(factory) as db:
        access.seed_default_reasons(db)
        make_user(db, username="constable", roles=[Role.OFFICER], officer=officer)
        clip_id = db.scalar(select(Clip.id).where(Clip.sha256 == hashlib.sha256(video).hexdigest()))
    assert clip_id is not None
    run_probe(settings, factory, clip_id)
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page()
        page.goto(f"{base_url}/login")
        page.get_by_label("Username").fill("constable")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("username")).to_have_text("constable")
        page.goto(f"{base_url}/footage/clips/{clip_id}")
        expect(page.get_by_test_id("recorded-notice")).to_contain_text("Viewing is recorded.")
        page.get_by_label("Reason").select_option("evidential-review")
        page.get_by_label("Incident number").fill("20261126-0042")
        page.get_by_role("button", name="View the clip").click()
        player = page.get_by_test_id("player")
        expect(player).to_be_visible()
        player.evaluate("video => { video.muted = true; return video.play(); }")
        page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=15_000)
        assert player.evaluate("video => video.error") is None
        browser.close()
    with transaction(factory) as db:
        assert len(events(db, "footage:clip:viewed")) == 1
        assert len(events(db, "access:grant:granted")) == 1


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_evidence_manager_finds_a_clip_in_the_library_and_plays_it_for_a_reason(
    settings: Settings, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """From the library's search to the player, then the audit log shows the viewing and its reason."""
    video = make_video(
        tmp_path / "found.mp4",
        seconds=4.0,
        metadata={"creation_time": "2026-11-26T04:59:58Z", "gps_track": GPS_TRACK},
    )
    # A camera not in the fleet: the clip is held for review, which evidence managers see.
    run_ingest(settings, factory, upload(open_store(settings), video, camera_serial="CAM-STRAY"))
    with transaction(factory) as db:
        access.seed_default_reasons(db)
        make_user(db, username="evidence1", roles=[Role.EVIDENCE_MANAGER])
        make_user(db, username="auditor1", roles=[Role.AUDITOR])
        clip_id = db.scalar(select(Clip.id).where(Clip.sha256 == hashlib.sha256(video).hexdigest()))
    assert clip_id is not None
    run_probe(settings, factory, clip_id)
    with serve(settings, factory) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page()
        _sign_in(page, base_url, "evidence1")
        page.get_by_role("link", name="Library").click()
        page.get_by_label("Camera").fill("CAM-STRAY")
        page.get_by_role("button", name="Search").click()
        result = page.get_by_test_id(f"result-{clip_id}")
        expect(result).to_be_visible()
        expect(page.get_by_test_id("results-map")).to_be_visible()
        thumbnail = result.get_by_role("img")
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("img => img.naturalWidth") > 0
        page.get_by_test_id(f"open-{clip_id}").click()
        expect(page.get_by_test_id("recorded-notice")).to_contain_text("Viewing is recorded.")
        page.get_by_label("Reason").select_option("evidential-review")
        page.get_by_label("Incident number").fill("20261126-0077")
        page.get_by_role("button", name="View the clip").click()
        player = page.get_by_test_id("player")
        expect(player).to_be_visible()
        player.evaluate("video => { video.muted = true; return video.play(); }")
        page.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=15_000)
        assert player.evaluate("video => video.error") is None

        audit_page = browser.new_context().new_page()
        _sign_in(audit_page, base_url, "auditor1")
        audit_page.goto(f"{base_url}/audit?action=footage:clip:viewed")
        viewed = audit_page.get_by_role("row").filter(has_text="evidence1")
        expect(viewed).to_contain_text("footage:clip:viewed")
        expect(viewed).to_contain_text("evidential-review; incident 20261126-0077")
        browser.close()


def _sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("username")).to_have_text(username)
