"""The counter screen over HTTP: one form, Enter decides, errors put the cursor where they belong."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import SYSTEM, Role
from tests.builders import headers_for, make_device, make_officer, make_pass, make_unit

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


def _post(
    client: TestClient, headers: dict[str, str], path: str = "/fleet/counter", **form: str
) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(
        path, data={"csrf_token": CSRF, **form}, headers={**headers, **HTML}, follow_redirects=True
    )


def _result(page: httpx2.Response) -> str:
    found = re.search(r'data-testid="result">(.*?)</p>', page.text, re.S)
    assert found is not None, page.text
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _focused(page: httpx2.Response) -> list[str]:
    return re.findall(r'id="([a-z_]+)"[^>]*\bautofocus\b', page.text)


def _officer(factory: sessionmaker[Session], collar: str, name: str) -> None:
    with transaction(factory) as db:
        officer = make_officer(
            db, collar=collar, name=name, unit=make_unit(db, code=f"U{collar}", name="Coventry Response")
        )
        make_pass(db, officer, "bwv_user", date(2026, 1, 1))


class TestCounterPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        response = client.get("/fleet/counter", headers=HTML, follow_redirects=False)
        assert response.status_code == 303

    def test_officer_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.get("/fleet/counter", headers={**headers_for(factory), **HTML}).status_code == 403

    def test_the_serial_field_has_the_cursor(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get("/fleet/counter", headers={**headers_for(factory, Role.EQUIPMENT_MANAGER), **HTML})
        assert _focused(page) == ["serial"]
        assert "Nothing issued or returned here today." in page.text


class TestScanAndEnter:
    def test_a_free_device_asks_for_the_collar_then_issues_with_the_identity_line(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _officer(factory, "3001", "Grace Green")
        with transaction(factory) as db:
            make_device(db, serial="CAM-P1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        asked = _post(client, headers, serial="cam-p1")
        assert asked.status_code == 200
        assert _result(asked) == (
            "Camera CAM-P1 (Axon Body 3) is in stock. Type the officer's collar number and press Enter to issue it."
        )
        assert _focused(asked) == ["collar_number"] and 'value="CAM-P1"' in asked.text
        issued = _post(client, headers, serial="CAM-P1", collar_number="3001")
        assert _result(issued) == "CAM-P1 issued to 3001 · Grace Green · Coventry Response"
        assert _focused(issued) == ["serial"]

    def test_a_device_that_is_out_is_returned_by_the_scan_alone(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _officer(factory, "3002", "Ola Ade")
        with transaction(factory) as db:
            make_device(db, serial="CAM-P2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        _post(client, headers, serial="CAM-P2", collar_number="3002")
        returned = _post(client, headers, serial="CAM-P2")
        assert _result(returned) == "CAM-P2 returned by 3002 · Ola Ade · Coventry Response"
        today = returned.text[returned.text.index('data-testid="today"') :]
        assert today.index(">returned<") < today.index(">issued<")
        with factory() as db:
            device = devices.get_device(db, "CAM-P2")
            assert device is not None and device.state == "in_stock"

    def test_no_such_device_repeats_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = _post(client, headers_for(factory, Role.EQUIPMENT_MANAGER), serial="CAM-TYPO9")
        assert response.status_code == 404
        assert _result(response) == "No such device: CAM-TYPO9."
        assert _focused(response) == ["serial"]

    def test_an_error_about_the_officer_puts_the_cursor_in_the_collar_field(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="3003")
            make_device(db, serial="CAM-P3")
        response = _post(
            client, headers_for(factory, Role.EQUIPMENT_MANAGER), serial="CAM-P3", collar_number="3003"
        )
        assert response.status_code == 409
        assert "has not passed the body-worn video user course" in _result(response)
        assert _focused(response) == ["collar_number"]
        assert 'value="3003"' in response.text

    def test_a_missing_serial_names_no_internal_field(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = _post(client, headers_for(factory, Role.EQUIPMENT_MANAGER), collar_number="1")
        assert response.status_code == 422
        assert _result(response) == "Scan or type the device's serial."
        assert "collar_number:" not in response.text and "serial:" not in response.text

    def test_a_wrong_kind_puts_the_cursor_on_the_kind(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _officer(factory, "3004", "Kim Lee")
        with transaction(factory) as db:
            make_device(db, serial="CAM-P4")
        response = _post(
            client,
            headers_for(factory, Role.EQUIPMENT_MANAGER),
            serial="CAM-P4",
            collar_number="3004",
            kind="tour",
        )
        assert response.status_code == 422
        assert _result(response) == "A camera is issued personally or checked out from a pool."
        assert _focused(response) == ["kind"]

    def test_a_lost_device_is_refused_with_its_rule(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _officer(factory, "3005", "Jo Hart")
        with transaction(factory) as db:
            make_device(db, serial="CAM-P5")
            devices.change_state(
                db, SYSTEM, serial="CAM-P5", state="stolen", note="Car broken into, CR/123/26"
            )
        response = _post(client, headers_for(factory, Role.EQUIPMENT_MANAGER), serial="CAM-P5")
        assert response.status_code == 409
        assert _result(response).startswith(
            "Camera CAM-P5 was reported stolen on 2026-11-26 and cannot be issued"
        )
        api = client.post(
            "/api/v1/issues",
            json={"device_serial": "CAM-P5", "collar_number": "3005", "kind": "personal"},
            headers=headers_for(factory, Role.EQUIPMENT_MANAGER),
        )
        assert api.status_code == 409
        assert api.json()["detail"]["rule"] == "device_stolen"


class TestUndoPage:
    def test_the_last_issue_is_undone_within_a_minute(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        _officer(factory, "3101", "Ravi Shah")
        with transaction(factory) as db:
            make_device(db, serial="CAM-Q1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        issued = _post(client, headers, serial="CAM-Q1", collar_number="3101")
        movement = re.search(r'name="movement_id" value="(\d+)"', issued.text)
        assert movement is not None
        clock.advance(timedelta(seconds=30))
        undone = _post(client, headers, "/fleet/counter/undo", movement_id=movement.group(1))
        assert _result(undone) == "CAM-Q1 issue undone: taken back from 3101 · Ravi Shah · Coventry Response"
        assert 'name="movement_id"' not in undone.text
        with factory() as db:
            device = devices.get_device(db, "CAM-Q1")
            assert device is not None and device.state == "in_stock"

    def test_too_late_shows_why_and_offers_no_button(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        _officer(factory, "3102", "Mo Khan")
        with transaction(factory) as db:
            make_device(db, serial="CAM-Q2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        issued = _post(client, headers, serial="CAM-Q2", collar_number="3102")
        movement = re.search(r'name="movement_id" value="(\d+)"', issued.text)
        assert movement is not None
        clock.advance(timedelta(minutes=2))
        assert 'name="movement_id"' not in client.get("/fleet/counter", headers={**headers, **HTML}).text
        late = _post(client, headers, "/fleet/counter/undo", movement_id=movement.group(1))
        assert late.status_code == 409
        assert "is more than a minute old and can no longer be undone" in _result(late)


class TestTodayOnTheForcesClocks:
    def test_the_counters_day_starts_at_local_midnight_and_shows_local_times(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clock.set(datetime(2026, 7, 1, 22, 50, tzinfo=UTC))  # 23:50 BST on 1 July
        _officer(factory, "3201", "Ada Bell")
        _officer(factory, "3202", "Ben Cole")
        with transaction(factory) as db:
            make_device(db, serial="CAM-T1")
            make_device(db, serial="CAM-T2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        _post(client, headers, serial="CAM-T1", collar_number="3201")
        clock.set(datetime(2026, 7, 1, 23, 10, tzinfo=UTC))  # 00:10 BST on 2 July, the same UTC day
        page = _post(client, headers, serial="CAM-T2", collar_number="3202").text
        today = page[page.index('data-testid="today"') : page.index("Overdue returns")]
        assert '<th scope="col">Time (Europe/London)</th>' in today
        assert "<td>00:10:00 BST</td>" in today and "CAM-T2" in today
        assert "CAM-T1" not in today
