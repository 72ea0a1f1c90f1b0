"""Date rules run on the app's clock, wherever it stands: a loan out over a leap day years from now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.policy import Role
from tests.builders import headers_for, make_device, make_officer, make_pass

# Late in the evening of a leap day, far from whatever day the suite runs on.
LEAP_EVENING = datetime(2040, 2, 29, 23, 30, tzinfo=UTC)


class TestPooledLoanFarFromToday:
    def test_overdue_and_history_follow_the_clock(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clock.set(LEAP_EVENING)
        manager = headers_for(factory, Role.EQUIPMENT_MANAGER)
        with transaction(factory) as db:
            officer = make_officer(db, collar="8801")
            make_pass(db, officer, "bwv_user")
            make_device(db, serial="POOL-LEAP", station="Coventry", pooled=True)
        body = {"device_serial": "POOL-LEAP", "collar_number": "8801", "kind": "pooled"}
        issued = client.post("/api/v1/issues", json=body, headers=manager)
        assert issued.status_code == 201
        assert issued.json()["due_back_at"] == "2040-03-01T11:30:00Z"
        assert client.get("/api/v1/issues", params={"overdue": True}, headers=manager).json() == []

        clock.advance(timedelta(hours=13))
        # The manager's one-hour token ran out overnight too.
        assert client.get("/api/v1/issues", headers=manager).status_code == 401
        manager = headers_for(factory, Role.EQUIPMENT_MANAGER)
        (late,) = client.get("/api/v1/issues", params={"overdue": True}, headers=manager).json()
        assert (late["device_serial"], late["overdue"]) == ("POOL-LEAP", True)
        returned = client.post(f"/api/v1/issues/{late['id']}/return", headers=manager)
        assert returned.json()["returned_at"] == "2040-03-01T12:30:00Z"

        history = client.get("/api/v1/devices/POOL-LEAP/history", headers=manager).json()
        assert [(h["action"], h["occurred_at"], h["note"]) for h in history] == [
            ("received", "2040-02-29T23:30:00Z", None),
            ("checked_out", "2040-02-29T23:30:00Z", None),
            ("checked_in", "2040-03-01T12:30:00Z", "returned late"),
        ]
