from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from openbwv import fleet
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass

ISSUED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
RETURNED = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)


class TestHolderAt:
    def test_names_the_officer_holding_the_camera_at_that_moment_only(self, db: Session) -> None:
        officer = make_officer(db, collar="4101")
        make_pass(db, officer, "bwv_user", date(2026, 10, 1))
        camera = make_device(db, kind="camera")
        issue = fleet.issue_device(
            db, SYSTEM, device_serial=camera.serial, collar_number="4101", kind="personal", now=ISSUED
        )
        fleet.return_issue(db, SYSTEM, issue_id=issue.id, now=RETURNED)
        holder = fleet.holder_at(db, camera.serial.lower(), ISSUED + timedelta(days=2))
        assert holder == fleet.HolderAtTime(
            officer_id=officer.id, collar_number="4101", issue_id=issue.id, issue_kind="personal"
        )
        assert fleet.holder_at(db, camera.serial, ISSUED - timedelta(seconds=1)) is None
        assert fleet.holder_at(db, camera.serial, RETURNED) is None

    def test_an_unknown_serial_has_no_holder(self, db: Session) -> None:
        assert fleet.holder_at(db, "NO-SUCH-CAMERA", ISSUED) is None
