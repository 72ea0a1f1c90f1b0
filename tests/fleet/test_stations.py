"""Stations' positions: set and listed through the API, audited, read by other domains through
fleet's service functions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.audit.models import AuditEvent
from openbwv.errors import InvalidInput
from openbwv.policy import SYSTEM, Role
from tests.builders import headers_for, make_device

LLOYD_HOUSE = {"latitude": 52.4862, "longitude": -1.8904}


class TestSetStationPosition:
    def test_an_equipment_manager_sets_and_moves_a_station_and_each_change_is_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        first = client.put("/api/v1/fleet/stations/Lloyd House", json=LLOYD_HOUSE, headers=headers)
        assert first.status_code == 200
        assert {k: first.json()[k] for k in ("name", "latitude", "longitude")} == {
            "name": "Lloyd House",
            **LLOYD_HOUSE,
        }
        moved = client.put(
            "/api/v1/fleet/stations/Lloyd House", json={"latitude": 52.5, "longitude": -1.9}, headers=headers
        )
        assert moved.json()["latitude"] == 52.5
        listed = client.get("/api/v1/fleet/stations", headers=headers_for(factory, Role.CONTROL_ROOM)).json()
        assert [(s["name"], s["latitude"], s["longitude"]) for s in listed] == [("Lloyd House", 52.5, -1.9)]
        with factory() as db:
            changes = list(
                db.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == "fleet:station:position_set")
                    .order_by(AuditEvent.id)
                )
            )
        assert [(e.target_type, e.target_id) for e in changes] == [("station", "Lloyd House")] * 2
        assert changes[0].details["before"] is None
        assert changes[1].details["before"] == LLOYD_HOUSE

    @pytest.mark.parametrize(
        "body",
        [
            {"latitude": 91, "longitude": 0},
            {"latitude": 0, "longitude": -180.5},
            {"latitude": 0},
            {"latitude": "north", "longitude": 0},
        ],
    )
    def test_a_position_out_of_range_is_422(
        self, body: dict[str, Any], client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert client.put("/api/v1/fleet/stations/Digbeth", json=body, headers=headers).status_code == 422

    def test_nan_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), "Content-Type": "application/json"}
        body = '{"latitude": NaN, "longitude": 0}'
        assert client.put("/api/v1/fleet/stations/Digbeth", content=body, headers=headers).status_code == 422

    def test_a_name_too_long_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        path = "/api/v1/fleet/stations/" + "x" * 121
        assert client.put(path, json=LLOYD_HOUSE, headers=headers).status_code == 422

    def test_anonymous_is_401_and_roles_without_fleet_writes_are_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.put("/api/v1/fleet/stations/Digbeth", json=LLOYD_HOUSE).status_code == 401
        assert client.get("/api/v1/fleet/stations").status_code == 401
        supervisor = headers_for(factory, Role.SUPERVISOR)
        assert (
            client.put("/api/v1/fleet/stations/Digbeth", json=LLOYD_HOUSE, headers=supervisor).status_code
            == 403
        )
        assert (
            client.get("/api/v1/fleet/stations", headers=headers_for(factory, Role.OFFICER)).status_code
            == 403
        )


class TestStationPosition:
    def test_a_cameras_station_position(self, db: Session) -> None:
        camera = make_device(db, kind="camera", station="Digbeth")
        bare = make_device(db, kind="camera")
        assert fleet.camera_station_position(db, camera.serial) is None
        fleet.set_station_position(db, SYSTEM, name=" Digbeth ", latitude=52.47, longitude=-1.88)
        assert fleet.station_position(db, "Digbeth") == (52.47, -1.88)
        assert fleet.camera_station_position(db, camera.serial.lower()) == (52.47, -1.88)
        assert fleet.camera_station_position(db, bare.serial) is None
        assert fleet.camera_station_position(db, "NO-SUCH") is None
        assert fleet.station_position(db, None) is None

    @pytest.mark.parametrize(
        "name, latitude, longitude, field",
        [("", 0, 0, "name"), ("A", float("nan"), 0, "latitude"), ("A", 0, float("inf"), "longitude")],
    )
    def test_the_service_refuses_what_is_no_position(
        self, name: str, latitude: float, longitude: float, field: str, db: Session
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            fleet.set_station_position(db, SYSTEM, name=name, latitude=latitude, longitude=longitude)
        assert refused.value.field == field
