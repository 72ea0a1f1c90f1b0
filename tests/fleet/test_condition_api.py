from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import SYSTEM, Role
from tests.builders import headers_for, make_device

HTML = {"Accept": "text/html"}


def _manager(factory: sessionmaker[Session]) -> dict[str, str]:
    return headers_for(factory, Role.EQUIPMENT_MANAGER, username="stores")


def _history(client: TestClient, serial: str, headers: dict[str, str]) -> list[tuple[str, str, str | None]]:
    rows = client.get(f"/api/v1/devices/{serial}/history", headers=headers).json()
    assert all(r["occurred_at"] for r in rows)
    return [(r["action"], r["actor"], r["note"]) for r in rows if r["action"] != "received"]


def _loaded_taser(factory: sessionmaker[Session], serial: str) -> None:
    """A Taser with cartridge ``<serial>-C1`` in bay 1 and bay 2 empty."""
    with transaction(factory) as db:
        make_device(db, kind="taser", serial=serial)
        devices.load_cartridge(
            db,
            SYSTEM,
            taser_serial=serial,
            serial=f"{serial}-C1",
            lot="L",
            expires_on=date(2099, 1, 1),
            bay=1,
        )


class TestHealthEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/devices/CAM-1/health", json={"battery_health": 5}).status_code == 401

    def test_supervisor_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.SUPERVISOR)
        response = client.post("/api/v1/devices/CAM-1/health", json={"battery_health": 5}, headers=headers)
        assert response.status_code == 403

    def test_unknown_device_is_404(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.post(
            "/api/v1/devices/NOPE/health", json={"battery_health": 5}, headers=_manager(factory)
        )
        assert response.status_code == 404

    def test_out_of_range_or_nothing_reported_is_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-H1")
        headers = _manager(factory)
        for body in ({"battery_health": 101}, {"storage_health": -1}, {}, {"battery_health": None}):
            assert client.post("/api/v1/devices/CAM-H1/health", json=body, headers=headers).status_code == 422

    def test_a_dock_is_409(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-H1")
        response = client.post(
            "/api/v1/devices/DOCK-H1/health", json={"battery_health": 5}, headers=_manager(factory)
        )
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "not_a_camera"

    def test_reports_health_and_the_history_says_who(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-H2")
        headers = _manager(factory)
        first = client.post(
            "/api/v1/devices/CAM-H2/health",
            json={"battery_health": 88, "storage_health": 97},
            headers=headers,
        )
        assert first.status_code == 200
        second = client.post(
            "/api/v1/devices/CAM-H2/health",
            json={"battery_health": 61, "storage_health": None},
            headers=headers,
        )
        assert (second.json()["battery_health"], second.json()["storage_health"]) == (61, 97)
        assert _history(client, "CAM-H2", headers) == [
            ("health_reported", "stores", "battery unknown → 88%; storage unknown → 97%"),
            ("health_reported", "stores", "battery 88% → 61%"),
        ]
        page = client.get("/fleet/devices/CAM-H2", headers={**headers, **HTML})
        assert "battery 61%, storage 97%" in page.text


class TestOnlineEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/devices/D/online", json={"online": True}).status_code == 401

    def test_training_manager_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        assert (
            client.post("/api/v1/devices/D/online", json={"online": True}, headers=headers).status_code == 403
        )

    def test_missing_flag_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-O1")
        response = client.post("/api/v1/devices/DOCK-O1/online", json={}, headers=_manager(factory))
        assert response.status_code == 422

    def test_a_camera_is_409(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-O1")
        response = client.post(
            "/api/v1/devices/CAM-O1/online", json={"online": True}, headers=_manager(factory)
        )
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "not_a_dock"

    def test_dock_goes_offline_and_the_page_shows_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-O2", slots=8, online=True)
        headers = _manager(factory)
        response = client.post("/api/v1/devices/DOCK-O2/online", json={"online": False}, headers=headers)
        assert (response.status_code, response.json()["online"]) == (200, False)
        assert _history(client, "DOCK-O2", headers) == [("went_offline", "stores", None)]
        page = client.get("/fleet/devices/DOCK-O2", headers={**headers, **HTML})
        assert '8 slots, <span data-testid="online">offline</span>' in page.text


class TestDischargeEndpoint:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/devices/T/cartridges/1/discharge").status_code == 401

    def test_officer_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.post("/api/v1/devices/T/cartridges/1/discharge", headers=headers_for(factory))
        assert response.status_code == 403

    def test_bad_bay_or_time_without_zone_is_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _loaded_taser(factory, "TAS-D1")
        headers = _manager(factory)
        assert (
            client.post("/api/v1/devices/TAS-D1/cartridges/x/discharge", headers=headers).status_code == 422
        )
        assert (
            client.post("/api/v1/devices/TAS-D1/cartridges/3/discharge", headers=headers).status_code == 422
        )
        naive = {"discharged_at": "2026-11-26T20:00:00"}
        response = client.post("/api/v1/devices/TAS-D1/cartridges/1/discharge", json=naive, headers=headers)
        assert response.status_code == 422

    def test_an_empty_bay_is_409(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        _loaded_taser(factory, "TAS-D2")
        response = client.post("/api/v1/devices/TAS-D2/cartridges/2/discharge", headers=_manager(factory))
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "bay_empty"

    def test_discharges_once_with_the_time(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        _loaded_taser(factory, "TAS-D3")
        headers = _manager(factory)
        body = {"discharged_at": "2025-11-20T21:15:00+00:00", "note": "incident 4411"}
        response = client.post("/api/v1/devices/TAS-D3/cartridges/1/discharge", json=body, headers=headers)
        assert response.status_code == 200
        assert (response.json()["serial"], response.json()["discharged"]) == ("TAS-D3-C1", True)
        assert response.json()["discharged_at"].startswith("2025-11-20T21:15:00")
        again = client.post("/api/v1/devices/TAS-D3/cartridges/1/discharge", headers=headers)
        assert again.status_code == 409
        assert again.json()["detail"]["rule"] == "cartridge_already_discharged"
        history = client.get("/api/v1/devices/TAS-D3/history", headers=headers).json()
        discharged = [h for h in history if h["action"] == "cartridge_discharged"]
        assert [(h["actor"], h["occurred_at"][:16], h["note"]) for h in discharged] == [
            ("stores", "2025-11-20T21:15", "bay 1: TAS-D3-C1; incident 4411")
        ]
        page = client.get("/fleet/devices/TAS-D3", headers={**headers, **HTML})
        assert "yes, 2025-11-20 21:15 GMT" in page.text

    def test_a_camera_is_409(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-D1")
        response = client.post("/api/v1/devices/CAM-D1/cartridges/1/discharge", headers=_manager(factory))
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "not_a_taser"


class TestLoadCartridgeEndpoint:
    def test_an_occupied_bay_is_409_and_keeps_its_cartridge(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _loaded_taser(factory, "TAS-L1")
        headers = _manager(factory)
        body = {"serial": "TAS-L1-C9", "lot": "L2", "expires_on": "2099-01-01", "bay": 1}
        refused = client.post("/api/v1/devices/TAS-L1/cartridges", json=body, headers=headers)
        assert refused.status_code == 409
        assert refused.json()["detail"] == {
            "rule": "bay_occupied",
            "message": "Bay 1 of Taser TAS-L1 already holds a cartridge.",
        }
        loaded = client.get("/api/v1/devices/TAS-L1", headers=headers).json()["cartridges"]
        assert [(c["serial"], c["bay"], c["discharged"]) for c in loaded] == [("TAS-L1-C1", 1, False)]
        history = client.get("/api/v1/devices/TAS-L1/history", headers=headers).json()
        assert [h["note"] for h in history if h["action"] == "cartridge_loaded"] == ["bay 1: TAS-L1-C1"]
        # The refused cartridge was not registered: the free bay takes it.
        free = client.post("/api/v1/devices/TAS-L1/cartridges", json={**body, "bay": 2}, headers=headers)
        assert (free.status_code, free.json()["bay"]) == (201, 2)
