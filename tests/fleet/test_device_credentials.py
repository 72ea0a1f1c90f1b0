"""Cameras and docks calling as themselves: credentials, the telemetry route and what the log says."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.auth import DeviceCredential
from openbwv.auth import devices as auth_devices
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.errors import Conflict, NotFound
from openbwv.fleet import credentials, devices
from openbwv.policy import SYSTEM, Actor, DeviceScope, Role
from tests.builders import device_headers_for, headers_for, make_device
from tests.conftest import ON_POSTGRES_ONLY
from tests.fleet.test_api import CountedBody

TELEMETRY = "/api/v1/device/telemetry"


def _issue(factory: sessionmaker[Session], serial: str) -> str:
    with transaction(factory) as db:
        _, raw = credentials.issue_credential(db, SYSTEM, serial=serial)
    return raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _credentials(factory: sessionmaker[Session], serial: str) -> list[DeviceCredential]:
    with factory() as db:
        query = select(DeviceCredential).where(DeviceCredential.device_serial == serial)
        return list(db.scalars(query.order_by(DeviceCredential.id)))


class TestIssueCredential:
    def test_a_camera_may_upload_report_and_stream_and_only_the_hash_is_kept(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-1")
        raw = _issue(factory, "cam-1")
        assert raw.startswith("obwvd_") and len(raw) > 40
        [stored] = _credentials(factory, "CAM-1")
        assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in {stored.secret_hash, stored.scopes}
        assert stored.scopes == "live_ingest telemetry upload"
        assert (stored.issued_by, stored.revoked_at, stored.last_used_at) == ("system", None, None)
        [issued] = _events(factory, AuditAction.AUTH_DEVICE_CREDENTIAL_ISSUED)
        assert (
            issued.actor_username,
            issued.actor_user_id,
            issued.target_type,
            issued.target_id,
            issued.reason,
            issued.details,
        ) == ("system", None, "device", "CAM-1", None, {"scopes": ["live_ingest", "telemetry", "upload"]})
        assert raw not in repr(issued.details) and stored.secret_hash not in repr(issued.details)

    def test_a_dock_may_upload_and_report_but_not_stream(self, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-1")
        _issue(factory, "DOCK-1")
        assert [c.scopes for c in _credentials(factory, "DOCK-1")] == ["telemetry upload"]
        issued = _events(factory, AuditAction.AUTH_DEVICE_CREDENTIAL_ISSUED)
        assert [(e.target_id, e.details) for e in issued] == [("DOCK-1", {"scopes": ["telemetry", "upload"]})]

    def test_a_taser_gets_none(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TAS-1")
        with pytest.raises(Conflict) as refused:
            credentials.issue_credential(db, SYSTEM, serial="tas-1")
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "device_cannot_sign_in",
            "TAS-1 is a taser; only cameras and docks sign in with a credential.",
        )
        assert db.scalars(select(DeviceCredential)).all() == []
        assert db.scalars(select(AuditEvent).where(AuditEvent.action.startswith("auth:"))).all() == []

    @ON_POSTGRES_ONLY
    def test_two_managers_issuing_at_the_same_moment_the_later_is_told_to_reload(
        self, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The other manager's credential commits after this request found none and before it writes
        its own: the live-credential index refuses it. (SQLite runs one writer at a time, so there the
        later request sees the first credential and replaces it.)"""
        with transaction(factory) as db:
            make_device(db, serial="CAM-RACE")
        other = Actor(username="stores2", roles=frozenset({Role.EQUIPMENT_MANAGER}))
        digest = auth_devices._digest
        theirs: list[str] = []

        def other_manager_commits_meanwhile(raw: str) -> str:
            if not theirs:
                theirs.append("")
                with transaction(factory) as elsewhere:
                    theirs[0] = credentials.issue_credential(elsewhere, other, serial="CAM-RACE")[1]
            return digest(raw)

        monkeypatch.setattr(auth_devices, "_digest", other_manager_commits_meanwhile)
        with pytest.raises(Conflict) as refused, transaction(factory) as db:
            credentials.issue_credential(db, SYSTEM, serial="CAM-RACE")
        monkeypatch.undo()
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "device_credential_live",
            "A credential for CAM-RACE was issued at the same moment; reload and try again.",
        )
        [kept] = _credentials(factory, "CAM-RACE")
        assert (kept.issued_by, kept.revoked_at) == ("stores2", None)
        assert kept.secret_hash == hashlib.sha256(theirs[0].encode()).hexdigest()
        issued = _events(factory, AuditAction.AUTH_DEVICE_CREDENTIAL_ISSUED)
        assert [(e.actor_username, e.target_id) for e in issued] == [("stores2", "CAM-RACE")]

    def test_an_unknown_serial_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound):
            credentials.issue_credential(db, SYSTEM, serial="NOPE")

    def test_a_new_credential_replaces_the_old_one(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-2")
        old = _issue(factory, "CAM-2")
        clock.advance(timedelta(minutes=5))
        new = _issue(factory, "CAM-2")
        first, second = _credentials(factory, "CAM-2")
        assert first.revoked_at == clock.now() and second.revoked_at is None
        body = {"battery_health": 80}
        assert client.post(TELEMETRY, json=body, headers=_bearer(old)).status_code == 401
        assert client.post(TELEMETRY, json=body, headers=_bearer(new)).status_code == 200
        revoked = _events(factory, "auth:device_credential:revoked")
        assert [(e.target_id, e.details["replaced"]) for e in revoked] == [("CAM-2", True)]


class TestTelemetryRoute:
    def test_a_camera_reports_its_health_into_its_history_and_the_log(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-T1")
        clock.advance(timedelta(minutes=3))
        response = client.post(TELEMETRY, json={"battery_health": 71, "storage_health": 90}, headers=headers)
        assert response.status_code == 200, response.text
        assert (response.json()["battery_health"], response.json()["storage_health"]) == (71, 90)
        with factory() as db:
            device = devices.get_device(db, "CAM-T1")
            assert device is not None
            moved = devices.device_history(db, device)[-1]
            assert (moved.action, moved.actor_username) == ("health_reported", "device:CAM-T1")
        [received] = _events(factory, "fleet:device:telemetry_received")
        assert (received.actor_username, received.actor_user_id, received.target_id) == (
            "device:CAM-T1",
            None,
            "CAM-T1",
        )
        assert received.details == {"battery_health": 71, "storage_health": 90}
        [changed] = _events(factory, "fleet:device:condition_reported")
        assert changed.actor_username == "device:CAM-T1"
        [credential] = _credentials(factory, "CAM-T1")
        assert credential.last_used_at == clock.now()

    def test_every_use_is_in_the_log_even_when_nothing_changed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-T2")
        for _ in range(3):
            assert client.post(TELEMETRY, json={"battery_health": 60}, headers=headers).status_code == 200
        assert len(_events(factory, "fleet:device:telemetry_received")) == 3
        assert len(_events(factory, "fleet:device:condition_reported")) == 1

    def test_a_dock_reports_that_it_is_online(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, kind="dock", serial="DOCK-T1")
        response = client.post(TELEMETRY, json={"online": True}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["online"] is True
        with factory() as db:
            device = devices.get_device(db, "DOCK-T1")
            assert device is not None
            assert devices.device_history(db, device)[-1].actor_username == "device:DOCK-T1"

    @pytest.mark.parametrize(
        ("kind", "body", "field"),
        [
            ("camera", {"online": True}, "online"),
            ("camera", {}, "battery_health"),
            ("dock", {"battery_health": 50}, "battery_health"),
            ("dock", {}, "online"),
        ],
    )
    def test_a_reading_the_device_does_not_make_is_422(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        kind: str,
        body: dict[str, object],
        field: str,
    ) -> None:
        response = client.post(TELEMETRY, json=body, headers=device_headers_for(factory, kind=kind))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] == field

    def test_a_health_out_of_range_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.post(TELEMETRY, json={"battery_health": 101}, headers=device_headers_for(factory))
        assert response.status_code == 422

    def test_it_stops_working_the_moment_it_is_revoked(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-T3")
        assert client.post(TELEMETRY, json={"battery_health": 50}, headers=headers).status_code == 200
        with transaction(factory) as db:
            credentials.revoke_credential(db, SYSTEM, serial="CAM-T3")
        response = client.post(TELEMETRY, json={"battery_health": 40}, headers=headers)
        assert response.status_code == 401
        with factory() as db:
            device = devices.get_device(db, "CAM-T3")
            assert device is not None and device.battery_health == 50

    def test_a_person_is_refused_and_the_refusal_is_logged(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER, username="stores")
        response = client.post(TELEMETRY, json={"battery_health": 50}, headers=headers)
        assert response.status_code == 403
        [refused] = _events(factory, "authz:access:refused")
        assert (refused.actor_username, refused.details) == ("stores", {"device_scope": "telemetry"})

    def test_a_device_without_the_scope_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, scopes=frozenset({DeviceScope.UPLOAD}))
        response = client.post(TELEMETRY, json={"battery_health": 50}, headers=headers)
        assert response.status_code == 403
        assert "telemetry" in response.json()["detail"]

    def test_a_credential_in_the_session_cookie_is_not_a_sign_in(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        raw = device_headers_for(factory)["Authorization"].removeprefix("Bearer ")
        client.cookies.set("openbwv_session", raw)
        assert client.post(TELEMETRY, json={"battery_health": 50}).status_code == 401

    def test_an_anonymous_caller_is_refused_before_the_body_is_read(self, client: TestClient) -> None:
        body = CountedBody(10)
        response = client.post(TELEMETRY, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 401
        assert body.consumed == 0

    def test_an_unknown_credential_is_401(self, client: TestClient) -> None:
        response = client.post(TELEMETRY, json={"battery_health": 50}, headers=_bearer("obwvd_" + "x" * 43))
        assert response.status_code == 401


class TestDeviceOnPersonRoutes:
    def test_a_device_is_refused_and_the_refusal_names_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-P1")
        assert client.get("/api/v1/me", headers=headers).status_code == 403
        response = client.post("/api/v1/devices/CAM-P1/health", json={"battery_health": 1}, headers=headers)
        assert response.status_code == 403
        refusals = _events(factory, "authz:access:refused")
        assert [(e.actor_username, e.target_id) for e in refusals] == [
            ("device:CAM-P1", "GET /api/v1/me"),
            ("device:CAM-P1", "POST /api/v1/devices/CAM-P1/health"),
        ]


class TestRevokeCredential:
    def test_nothing_to_revoke_is_refused(self, db: Session) -> None:
        make_device(db, serial="CAM-R1")
        with pytest.raises(Conflict) as refused:
            credentials.revoke_credential(db, SYSTEM, serial="cam-r1")
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "no_device_credential",
            "CAM-R1 has no credential to revoke.",
        )
        assert db.scalars(select(DeviceCredential)).all() == []
        assert db.scalars(select(AuditEvent).where(AuditEvent.action.startswith("auth:"))).all() == []

    def test_revoking_keeps_the_row_with_who_and_when(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-R2")
        _issue(factory, "CAM-R2")
        clock.advance(timedelta(hours=1))
        with transaction(factory) as db:
            credentials.revoke_credential(db, SYSTEM, serial="CAM-R2")
        [credential] = _credentials(factory, "CAM-R2")
        assert (credential.revoked_at, credential.revoked_by) == (clock.now(), "system")
        [revoked] = _events(factory, "auth:device_credential:revoked")
        assert (revoked.target_id, revoked.details["replaced"]) == ("CAM-R2", False)


class TestRetiringADevice:
    def test_revokes_its_credential(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = device_headers_for(factory, serial="CAM-X1")
        with transaction(factory) as db:
            devices.change_state(db, SYSTEM, serial="CAM-X1", state="retired", note="cracked lens")
        assert client.post(TELEMETRY, json={"battery_health": 50}, headers=headers).status_code == 401
        [credential] = _credentials(factory, "CAM-X1")
        assert credential.revoked_by == "system"
        with transaction(factory) as db, pytest.raises(Conflict) as refused:
            credentials.issue_credential(db, SYSTEM, serial="CAM-X1")
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "device_retired",
            "CAM-X1 is retired; it gets no credential.",
        )
        assert [(c.id, c.revoked_at is not None) for c in _credentials(factory, "CAM-X1")] == [
            (credential.id, True)
        ]
        assert len(_events(factory, AuditAction.AUTH_DEVICE_CREDENTIAL_ISSUED)) == 1
