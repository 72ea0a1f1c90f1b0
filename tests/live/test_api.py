"""The embedded transport (HTTP with a device credential), the map's GeoJSON and a camera's track."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.live import telemetry
from openbwv.live.models import PositionRecord
from openbwv.policy import DeviceScope, Role
from tests.builders import device_headers_for, headers_for
from tests.live.helpers import CAMERAS, TELEMETRY, issued_camera, payload


def _positions(factory: sessionmaker[Session], serial: str) -> int:
    with factory() as db:
        query = select(func.count()).select_from(PositionRecord).where(PositionRecord.serial == serial)
        return db.scalar(query) or 0


class TestReceiveTelemetry:
    def test_a_camera_reports_and_its_state_and_history_are_stored(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-H1")
        response = client.post(TELEMETRY, json=payload(recording=True), headers=headers)
        assert response.status_code == 202, response.text
        assert response.json() == {"serial": "CAM-H1", "ts": clock.now().isoformat().replace("+00:00", "Z")}
        with factory() as db:
            state = telemetry.get_camera_state(db, "CAM-H1")
            assert state is not None and state.recording is True and state.received_at == clock.now()
        assert _positions(factory, "CAM-H1") == 1

    def test_the_serial_comes_from_the_credential_never_the_body(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-H2")
        response = client.post(TELEMETRY, json=payload(serial="CAM-OTHER"), headers=headers)
        assert response.json()["serial"] == "CAM-H2"

    def test_an_older_message_is_refused_as_out_of_order_and_not_stored(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-H3")
        assert client.post(TELEMETRY, json=payload(), headers=headers).status_code == 202
        late = payload(at=clock.now() - timedelta(seconds=10), lat=10.0)
        response = client.post(TELEMETRY, json=late, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["rule"] == "out_of_order"
        assert _positions(factory, "CAM-H3") == 1
        with factory() as db:
            state = telemetry.get_camera_state(db, "CAM-H3")
            assert state is not None and state.lat != 10.0

    def test_a_refusal_names_its_reason_and_is_counted(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-H4")
        response = client.post(TELEMETRY, content=b"{not json", headers=headers)
        assert (response.status_code, response.json()["detail"]["rule"]) == (422, "malformed")
        response = client.post(TELEMETRY, json=payload(lat=123), headers=headers)
        assert response.json()["detail"]["rule"] == "impossible"
        on_the_host = TestClient(client.app, base_url="https://testserver", client=("127.0.0.1", 40000))
        metrics = on_the_host.get("/metrics").text
        assert 'openbwv_live_telemetry_refused_total{reason="malformed",transport="http"} 1.0' in metrics
        assert 'openbwv_live_telemetry_refused_total{reason="impossible",transport="http"} 1.0' in metrics

    def test_a_dock_is_not_a_camera_in_the_fleet(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, kind="dock", serial="DOCK-H1")
        response = client.post(TELEMETRY, json=payload(), headers=headers)
        assert (response.status_code, response.json()["detail"]["rule"]) == (422, "unknown_camera")

    def test_a_device_without_the_telemetry_scope_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-H5", scopes=frozenset({DeviceScope.UPLOAD}))
        assert client.post(TELEMETRY, json=payload(), headers=headers).status_code == 403

    def test_a_person_may_not_report_for_a_camera(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.CONTROL_ROOM)
        assert client.post(TELEMETRY, json=payload(), headers=headers).status_code == 403
        assert client.post(TELEMETRY, json=payload()).status_code == 401


class TestCameraMap:
    def test_features_carry_position_holder_and_state_and_each_read_is_audited(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            issued_camera(db, serial="CAM-M1", collar="4101", unit_code="TRAF")
            issued_camera(db, serial="CAM-M2", collar="4102", unit_code="RESP")
        first = device_headers_for(factory, serial="CAM-M3")
        client.post(TELEMETRY, json=payload(lat=52.6, lon=-2.1), headers=first)
        with transaction(factory) as db:
            telemetry.receive_readings(
                db,
                [("CAM-M1", payload(recording=True, battery_pct=55)), ("CAM-M2", payload())],
                max_age=timedelta(minutes=5),
            )
        clock.advance(timedelta(minutes=3))
        headers = headers_for(factory, Role.CONTROL_ROOM, username="controller")
        response = client.get(CAMERAS, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["type"] == "FeatureCollection"
        by_serial = {f["properties"]["serial"]: f for f in body["features"]}
        assert sorted(by_serial) == ["CAM-M1", "CAM-M2", "CAM-M3"]
        m1 = by_serial["CAM-M1"]
        assert m1["geometry"] == {"type": "Point", "coordinates": [-1.8904, 52.4862]}
        props = m1["properties"]
        assert (props["collar_number"], props["unit"], props["recording"], props["battery_pct"]) == (
            "4101",
            "TRAF",
            True,
            55.0,
        )
        assert props["stale"] is True and props["last_seen"].startswith("2026-11-26T08:00:00")
        assert by_serial["CAM-M3"]["properties"]["collar_number"] is None
        filtered = client.get(CAMERAS, params={"unit": "traf"}, headers=headers).json()
        assert [f["id"] for f in filtered["features"]] == ["CAM-M1"]
        recording = client.get(CAMERAS, params={"recording": "false"}, headers=headers).json()
        assert [f["id"] for f in recording["features"]] == ["CAM-M2", "CAM-M3"]
        with factory() as db:
            events = db.scalars(select(AuditEvent).where(AuditEvent.action == "live:map:viewed")).all()
        assert [(e.actor_username, e.details["cameras"]) for e in events] == [
            ("controller", 3),
            ("controller", 1),
            ("controller", 2),
        ]

    def test_a_fresh_camera_is_not_stale(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        client.post(TELEMETRY, json=payload(), headers=device_headers_for(factory, serial="CAM-M4"))
        headers = headers_for(factory, Role.SUPERVISOR)
        [feature] = client.get(CAMERAS, headers=headers).json()["features"]
        assert feature["properties"]["stale"] is False

    def test_an_officer_may_not_read_the_map(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get(CAMERAS, headers=headers_for(factory, Role.OFFICER)).status_code == 403
        assert client.get(CAMERAS).status_code == 401


class TestCameraTrack:
    def test_the_track_is_downsampled_and_audited(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        headers = device_headers_for(factory, serial="CAM-T1")
        start = clock.now()
        for second in range(0, 100, 10):
            clock.set(start + timedelta(seconds=second))
            body = payload(lat=52.0 + second / 1000)
            assert client.post(TELEMETRY, json=body, headers=headers).status_code == 202
        reader = headers_for(factory, Role.CONTROL_ROOM)
        response = client.get("/api/v1/live/cameras/cam-t1/track", params={"every_s": 30}, headers=reader)
        assert response.status_code == 200, response.text
        track = response.json()
        assert track["geometry"]["type"] == "LineString"
        assert [lat for _, lat in track["geometry"]["coordinates"]] == [52.0, 52.03, 52.06, 52.09]
        with factory() as db:
            [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "live:track:viewed")).all()
        assert (event.target_id, event.details["points"]) == ("CAM-T1", 4)
