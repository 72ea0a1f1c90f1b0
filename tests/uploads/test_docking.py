"""A dock's page lists the cameras it holds, as its uploads say; a camera's page names its dock."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.fleet import issues
from openbwv.policy import SYSTEM, Role
from tests.builders import device_headers_for, headers_for, make_device, make_officer, make_pass
from tests.uploads.helpers import creation_headers

HTML = {"Accept": "text/html"}
DATA = b"footage"


def _in_dock(client: TestClient, headers: dict[str, str], dock: str) -> list[str]:
    page = client.get(f"/fleet/devices/{dock}", headers={**headers, **HTML}).text
    if '<table data-testid="docked-cameras">' not in page:
        return []
    table = page.split('<table data-testid="docked-cameras">')[1].split("</table>")[0]
    return [cell.split(">")[1].split("<")[0] for cell in table.split('<a href="/fleet/devices/')[1:]]


class TestCamerasInADock:
    def test_an_upload_puts_the_camera_in_the_dock_until_another_dock_or_an_issue(
        self, tus: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        first = device_headers_for(factory, kind="dock", serial="DOCK-1")
        second = device_headers_for(factory, kind="dock", serial="DOCK-2")
        with transaction(factory) as db:
            make_device(db, serial="CAM-001")
            make_device(db, serial="CAM-002")
            officer = make_officer(db, collar="4101")
            make_pass(db, officer, "bwv_user", date(2026, 1, 1))
        reader = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert _in_dock(tus, reader, "DOCK-1") == []

        for camera in ("CAM-002", "CAM-001"):
            created = tus.post("/api/v1/uploads", headers=creation_headers(first, DATA, camera_serial=camera))
            assert created.status_code == 201
        assert _in_dock(tus, reader, "DOCK-1") == ["CAM-001", "CAM-002"]
        camera_page = tus.get("/fleet/devices/CAM-001", headers={**reader, **HTML}).text
        assert 'In dock <a href="/fleet/devices/DOCK-1">DOCK-1</a> since 2026-11-26 08:00 GMT' in camera_page

        clock.advance(timedelta(minutes=40))
        moved = tus.post("/api/v1/uploads", headers=creation_headers(second, DATA, camera_serial="cam-001"))
        assert moved.status_code == 201
        assert _in_dock(tus, reader, "DOCK-1") == ["CAM-002"]
        assert _in_dock(tus, reader, "DOCK-2") == ["CAM-001"]

        with transaction(factory) as db:
            issues.issue_device(db, SYSTEM, device_serial="CAM-002", collar_number="4101", kind="personal")
        assert _in_dock(tus, reader, "DOCK-1") == []
        issued_page = tus.get("/fleet/devices/CAM-002", headers={**reader, **HTML}).text
        assert 'data-testid="docked-in"' not in issued_page

    def test_an_unknown_camera_or_a_camera_uploading_itself_records_no_dock(
        self, tus: TestClient, factory: sessionmaker[Session]
    ) -> None:
        dock = device_headers_for(factory, kind="dock", serial="DOCK-3")
        camera = device_headers_for(factory, kind="camera", serial="CAM-003")
        unknown = tus.post("/api/v1/uploads", headers=creation_headers(dock, DATA, camera_serial="CAM-999"))
        assert unknown.status_code == 201
        itself = tus.post("/api/v1/uploads", headers=creation_headers(camera, DATA, camera_serial="CAM-003"))
        assert itself.status_code == 201
        reader = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert _in_dock(tus, reader, "DOCK-3") == []
        page = tus.get("/fleet/devices/CAM-003", headers={**reader, **HTML}).text
        assert 'data-testid="docked-in"' not in page
