"""The counter screen in a real browser: sign in, scan a serial, type a collar number, issue."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import devices, issues
from openbwv.migrate import upgrade
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_device, make_officer, make_pass, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    upgrade(url)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, secret_key="browser", cookie_secure=False
    )
    factory = make_session_factory(make_engine(url))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, factory), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", factory
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
def test_counter_issues_a_camera_end_to_end(served: tuple[str, sessionmaker[Session]]) -> None:
    base, factory = served
    with transaction(factory) as db:
        make_user(db, username="kit.manager", roles=[Role.EQUIPMENT_MANAGER])
        officer = make_officer(db, collar="2468", name="Grace Green")
        make_pass(db, officer, "bwv_user", date(2026, 2, 1))
        make_device(db, serial="AXB3-0001")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/login?next=/fleet/counter")
        page.fill("#username", "kit.manager")
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/fleet/counter")
        assert page.evaluate("document.activeElement.id") == "serial"
        page.keyboard.type("AXB3-0001")
        page.fill("#collar_number", "2468")
        page.click("button[value=issue]")
        page.wait_for_selector("[data-testid=result]")
        assert page.inner_text("[data-testid=result]") == "AXB3-0001 issued to officer 2468 (personal)."
        browser.close()
    with factory() as db:
        camera = devices.get_device(db, "AXB3-0001")
        assert camera is not None and camera.state == "issued"
        held = issues.officer_kit(db, officer.id)
        assert [d.serial for _, d in held] == ["AXB3-0001"]
