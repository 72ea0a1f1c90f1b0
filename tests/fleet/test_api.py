from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth
from openbwv.app import create_app
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import devices, issues, training
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM, Role
from tests.builders import headers_for, make_device, make_officer, make_pass, make_unit, make_user


def _manager(factory: sessionmaker[Session]) -> dict[str, str]:
    return headers_for(factory, Role.EQUIPMENT_MANAGER)


class TestCreateDevice:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/devices", json={}).status_code == 401

    def test_officer_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        body = {"kind": "camera", "serial": "C1", "model": "Axon Body 3"}
        assert client.post("/api/v1/devices", json=body, headers=headers_for(factory)).status_code == 403

    def test_unknown_kind_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        body = {"kind": "radio", "serial": "C1", "model": "Airwave"}
        assert client.post("/api/v1/devices", json=body, headers=_manager(factory)).status_code == 422

    def test_equipment_manager_registers_a_taser_and_filters_find_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = _manager(factory)
        created = client.post(
            "/api/v1/devices", json={"kind": "taser", "serial": "x2-001", "model": "x2"}, headers=headers
        )
        assert created.status_code == 201
        assert (created.json()["serial"], created.json()["model"], created.json()["state"]) == (
            "X2-001",
            "X2",
            "in_stock",
        )
        client.post(
            "/api/v1/devices",
            json={"kind": "camera", "serial": "CAM-1", "model": "Axon Body 3"},
            headers=headers,
        )
        listed = client.get("/api/v1/devices", params={"kind": "taser", "state": "in_stock"}, headers=headers)
        assert [d["serial"] for d in listed.json()["items"]] == ["X2-001"]

    def test_a_serial_registered_twice_is_409(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = _manager(factory)
        body = {"kind": "camera", "serial": "CAM-2", "model": "Axon Body 3"}
        client.post("/api/v1/devices", json=body, headers=headers)
        again = client.post("/api/v1/devices", json=body, headers=headers)
        assert again.status_code == 409
        assert again.json()["detail"]["rule"] == "serial_taken"


class TestIssueEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/issues", json={}).status_code == 401

    def test_supervisor_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        body = {"device_serial": "X", "collar_number": "1", "kind": "personal"}
        response = client.post("/api/v1/issues", json=body, headers=headers_for(factory, Role.SUPERVISOR))
        assert response.status_code == 403

    def test_bad_kind_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        body = {"device_serial": "X", "collar_number": "1", "kind": "borrowed"}
        assert client.post("/api/v1/issues", json=body, headers=_manager(factory)).status_code == 422

    def test_end_to_end_train_issue_and_return(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        admin = headers_for(factory, Role.ADMIN)
        trainer = headers_for(factory, Role.TRAINING_MANAGER)
        manager = _manager(factory)
        assert (
            client.post("/api/v1/units", json={"code": "resp", "name": "Response"}, headers=admin).status_code
            == 201
        )
        officer = {"collar_number": "6001", "name": "Leah Lewis", "rank": "constable", "unit": "RESP"}
        assert client.post("/api/v1/officers", json=officer, headers=admin).status_code == 201
        client.post(
            "/api/v1/devices",
            json={"kind": "camera", "serial": "CAM-7", "model": "Axon Body 3"},
            headers=manager,
        )
        issue = {"device_serial": "CAM-7", "collar_number": "6001", "kind": "personal"}
        refused = client.post("/api/v1/issues", json=issue, headers=manager)
        assert refused.status_code == 409
        assert refused.json()["detail"]["rule"] == "bwv_training_required"
        passed = {"course": "bwv_user", "passed_on": "2026-01-05"}
        assert client.post("/api/v1/officers/6001/training", json=passed, headers=trainer).status_code == 201
        issued = client.post("/api/v1/issues", json=issue, headers=manager)
        assert issued.status_code == 201
        assert (issued.json()["device_serial"], issued.json()["collar_number"]) == ("CAM-7", "6001")
        returned = client.post(f"/api/v1/issues/{issued.json()['id']}/return", headers=manager)
        assert returned.status_code == 200
        assert returned.json()["returned_at"] is not None
        history = client.get("/api/v1/devices/CAM-7/history", headers=manager).json()
        assert [h["action"] for h in history] == ["received", "issued", "returned"]

    def test_taser_refused_with_the_lapse_date(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        yesterday = clock.now().date() - timedelta(days=1)
        with transaction(factory) as db:
            officer = make_officer(db, collar="6002")
            make_pass(db, officer, "taser_initial", training.add_months(yesterday, -12))
            training.add_volunteer(db, SYSTEM, collar_number="6002", volunteered_on=yesterday)
            make_device(db, kind="taser", serial="TZ-1")
        body = {"device_serial": "TZ-1", "collar_number": "6002", "kind": "personal"}
        response = client.post("/api/v1/issues", json=body, headers=_manager(factory))
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "taser_authority_lapsed"
        assert f"lapsed on {yesterday.isoformat()}" in response.json()["detail"]["message"]


class TestReturnEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/issues/1/return").status_code == 401

    def test_training_manager_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.post("/api/v1/issues/1/return", headers=headers_for(factory, Role.TRAINING_MANAGER))
        assert response.status_code == 403

    def test_unknown_issue_is_404(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.post("/api/v1/issues/999/return", headers=_manager(factory)).status_code == 404

    def test_bad_id_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.post("/api/v1/issues/abc/return", headers=_manager(factory)).status_code == 422


class TestOfficerTraining:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.get("/api/v1/officers/1/training").status_code == 401

    def test_another_officers_record_is_hidden(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="6100")
        assert client.get("/api/v1/officers/6100/training", headers=headers_for(factory)).status_code == 404

    def test_recording_needs_training_write(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        body = {"course": "bwv_user", "passed_on": "2026-01-05"}
        response = client.post("/api/v1/officers/1/training", json=body, headers=_manager(factory))
        assert response.status_code == 403

    def test_unknown_course_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="6101")
        body = {"course": "juggling", "passed_on": "2026-01-05"}
        trainer = headers_for(factory, Role.TRAINING_MANAGER)
        response = client.post("/api/v1/officers/6101/training", json=body, headers=trainer)
        assert response.status_code == 422

    def test_the_officer_sees_each_course_with_its_expiry(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="6102")
            make_pass(db, officer, "bwv_user", date(2025, 3, 1))
            make_pass(db, officer, "taser_initial", date(2020, 3, 1))
            make_user(db, username="own", officer=officer)
        with transaction(factory) as db:
            user = auth.get_user(db, "own")
            assert user is not None
            token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        response = client.get("/api/v1/officers/6102/training", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert [(c["course"], c["expires_on"], c["in_date"]) for c in response.json()] == [
            ("bwv_user", None, True),
            ("taser_initial", "2021-03-01", False),
        ]


class CountedBody:
    """A request body of ``megabytes`` MiB that counts how much of it the server read."""

    def __init__(self, megabytes: int) -> None:
        self.megabytes = megabytes
        self.consumed = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"kind,serial,model\n"
        for _ in range(self.megabytes):
            self.consumed += 1024 * 1024
            yield b"x" * (1024 * 1024)


class TestImportEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/imports/officers", content="x").status_code == 401

    @pytest.mark.parametrize("path", ["/api/v1/imports/officers", "/api/v1/imports/devices"])
    def test_an_anonymous_large_upload_is_refused_unread(self, client: TestClient, path: str) -> None:
        body = CountedBody(70)
        declared = {"Content-Type": "text/csv", "Content-Length": str(70 * 1024 * 1024 + 18)}
        response = client.post(path, content=body, headers=declared)
        assert response.status_code == 401
        assert body.consumed == 0

    def test_a_large_upload_from_a_role_without_the_permission_is_refused_unread(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = CountedBody(70)
        headers = {**headers_for(factory, Role.SUPERVISOR), "Content-Type": "text/csv"}
        response = client.post("/api/v1/imports/devices", content=body, headers=headers)
        assert response.status_code == 403
        assert body.consumed == 0

    def test_an_anonymous_multipart_upload_is_refused_unread(self, client: TestClient) -> None:
        body = CountedBody(10)
        multipart = {"Content-Type": "multipart/form-data; boundary=x"}
        assert client.post("/api/v1/imports/devices", content=body, headers=multipart).status_code == 401
        assert body.consumed == 0

    def test_a_body_over_the_limit_is_413(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        small = Settings(**{**settings.model_dump(include=set(Settings.model_fields)), "max_body_mib": 1})
        headers = {**_manager(factory), "Content-Type": "text/csv"}
        with TestClient(
            create_app(small, factory, jobs=JobRegistry()), base_url="https://testserver"
        ) as client:
            declared = client.post(
                "/api/v1/imports/devices", content=b"x" * (2 * 1024 * 1024), headers=headers
            )
            streamed = client.post("/api/v1/imports/devices", content=CountedBody(2), headers=headers)
        assert (declared.status_code, streamed.status_code) == (413, 413)
        assert declared.json() == {"detail": "The request body is larger than 1 MiB."}
        assert streamed.json() == declared.json()

    def test_supervisor_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.SUPERVISOR)
        assert client.post("/api/v1/imports/devices", content="x", headers=headers).status_code == 403

    def test_one_bad_row_is_422_naming_the_line(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        text = "kind,serial,model\ncamera,A-1,Axon\nwand,A-2,Hogwarts\n"
        headers = {**_manager(factory), "Content-Type": "text/csv"}
        response = client.post("/api/v1/imports/devices", content=text, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["errors"][0]["line"] == 3
        assert client.get("/api/v1/devices", headers=headers).json()["total"] == 0

    def test_a_cell_past_the_csv_field_limit_is_422_naming_the_line(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        text = 'kind,serial,model\ncamera,A-1,Axon\ncamera,A-2,"Axon' + "x" * 200_000 + "\n"
        headers = {**_manager(factory), "Content-Type": "text/csv"}
        response = client.post("/api/v1/imports/devices?skip_bad=true", content=text, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["message"] == (
            "1 bad row, nothing imported; line 3: a cell is longer than 131,072 characters "
            "(is a quote left open?)"
        )
        assert client.get("/api/v1/devices", headers=headers).json()["total"] == 0

    def test_an_over_long_firmware_is_422_naming_the_line(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        text = f"kind,serial,model,firmware\ncamera,A-1,Axon,{'9' * 41}\n"
        headers = {**_manager(factory), "Content-Type": "text/csv"}
        response = client.post("/api/v1/imports/devices", content=text, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["errors"] == [
            {"line": 2, "reason": "the firmware is longer than 40 characters"}
        ]
        assert client.get("/api/v1/devices", headers=headers).json()["total"] == 0

    def test_multipart_upload_imports_and_exports(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        text = "kind,serial,model\ncamera,A-1,Axon\ncamera,A-2,Axon\n"
        headers = _manager(factory)
        response = client.post(
            "/api/v1/imports/devices", files={"file": ("note.csv", text, "text/csv")}, headers=headers
        )
        assert response.json()["imported"] == 2
        exported = client.get("/api/v1/exports/devices.csv", headers=headers)
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.text.splitlines()[1].startswith("camera,A-1,Axon")
        with factory() as db:
            event = db.scalars(select(AuditEvent).where(AuditEvent.action == "fleet:list:exported")).one()
        assert (event.target_id, event.details) == ("devices", {"rows": 2})


class TestAuthorityExceptionsEndpoint:
    def test_officer_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.get("/api/v1/training/exceptions", headers=headers_for(factory)).status_code == 403

    def test_bad_date_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        assert client.get("/api/v1/training/exceptions?on=soon", headers=headers).status_code == 422

    def test_run_lists_lapsing_and_notifies(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="6200")
            make_pass(db, officer, "taser_refresher", date(2025, 12, 10))
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        response = client.post("/api/v1/training/check-lapses?on=2026-11-26", headers=headers)
        assert response.status_code == 200
        assert [x["collar_number"] for x in response.json()["lapsing"]] == ["6200"]
        assert response.json()["notifications_added"] == 2


class TestReportMissingOverTheApi:
    def test_a_stolen_report_needs_a_note_and_is_recorded(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-API-S1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        bare = client.post("/api/v1/devices/CAM-API-S1/state", json={"state": "stolen"}, headers=headers)
        assert bare.status_code == 422
        assert bare.json()["detail"][0]["loc"] == ["body", "note"]
        stolen = client.post(
            "/api/v1/devices/CAM-API-S1/state",
            json={"state": "stolen", "note": "Taken from a locker, CR/77/26"},
            headers=headers,
        )
        assert stolen.status_code == 200 and stolen.json()["state"] == "stolen"


def _as_stored(client: TestClient, serial: str, headers: dict[str, str]) -> tuple[object, ...]:
    """A device's state, its open issue and every movement it has made: what a refusal must keep."""
    device = client.get(f"/api/v1/devices/{serial}", headers=headers).json()
    history = client.get(f"/api/v1/devices/{serial}/history", headers=headers).json()
    return device["state"], device["current_issue_id"], [(h["action"], h["note"]) for h in history]


class TestStateEndpointRefusals:
    def test_an_issued_camera_is_not_sent_to_repair_until_returned(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="6401")
            make_pass(db, officer, "bwv_user", date(2026, 1, 1))
            make_device(db, serial="CAM-API-I1")
            issues.issue_device(db, SYSTEM, device_serial="CAM-API-I1", collar_number="6401", kind="personal")
        headers = _manager(factory)
        before = _as_stored(client, "CAM-API-I1", headers)
        response = client.post(
            "/api/v1/devices/CAM-API-I1/state",
            json={"state": "in_repair", "note": "Cracked"},
            headers=headers,
        )
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "device_issued",
            "message": "Camera CAM-API-I1 is issued; return it before changing its state.",
        }
        assert before[0] == "issued" and before[1] is not None
        assert _as_stored(client, "CAM-API-I1", headers) == before

    def test_a_retired_taser_stays_retired(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, kind="taser", serial="TAS-API-R1")
            devices.change_state(db, SYSTEM, serial="TAS-API-R1", state="retired", note="Broken housing")
        headers = _manager(factory)
        before = _as_stored(client, "TAS-API-R1", headers)
        response = client.post(
            "/api/v1/devices/TAS-API-R1/state", json={"state": "in_stock"}, headers=headers
        )
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "device_retired",
            "message": "Taser TAS-API-R1 is retired.",
        }
        assert before[0] == "retired"
        assert _as_stored(client, "TAS-API-R1", headers) == before

    def test_the_state_a_device_already_has_is_refused_and_no_movement_added(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-API-U1")
            devices.change_state(db, SYSTEM, serial="CAM-API-U1", state="in_repair", note="Cracked lens")
        headers = _manager(factory)
        before = _as_stored(client, "CAM-API-U1", headers)
        response = client.post(
            "/api/v1/devices/CAM-API-U1/state", json={"state": "in_repair", "note": "Again"}, headers=headers
        )
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "state_unchanged",
            "message": "Camera CAM-API-U1 is already in repair.",
        }
        assert before[0] == "in_repair"
        assert _as_stored(client, "CAM-API-U1", headers) == before
        with factory() as db:
            changed = db.scalars(
                select(AuditEvent.reason).where(AuditEvent.action == AuditAction.FLEET_DEVICE_STATE_CHANGED)
            ).all()
        assert changed == ["Cracked lens"]


class TestRolloutPhaseEndpoint:
    def test_a_second_phase_of_the_same_name_for_the_unit_is_409_and_the_first_is_kept(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="SPT", name="South Patrol")
        headers = _manager(factory)
        phase = {"name": "Wave 3", "unit": "SPT", "target_cameras": 12, "starts_on": "2026-12-01"}
        added = client.post(
            "/api/v1/rollout/phases", json={**phase, "ends_on": "2027-01-31"}, headers=headers
        )
        assert added.status_code == 201, added.text
        again = client.post(
            "/api/v1/rollout/phases",
            json={**phase, "unit": "spt", "target_cameras": 40, "ends_on": "2027-03-31"},
            headers=headers,
        )
        assert again.status_code == 409
        assert again.json()["detail"] == {
            "rule": "phase_exists",
            "message": "Phase Wave 3 already covers unit SPT.",
        }
        progress = client.get("/api/v1/rollout/progress", headers=headers).json()
        assert [(p["name"], p["unit"], p["target_cameras"], p["ends_on"]) for p in progress] == [
            ("Wave 3", "SPT", 12, "2027-01-31")
        ]
        with factory() as db:
            changes = db.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.FLEET_ROLLOUT_CHANGED)
            ).all()
        assert len(changes) == 1
