from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from openbwv import fleet
from openbwv.fleet import issues
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


class TestIssuePeriods:
    """The history that says who could have recorded what: every issue of one kind of device that
    overlaps a window, oldest first, with where the device lives and how it went out."""

    SINCE = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
    UNTIL = datetime(2026, 11, 6, 0, 0, tzinfo=UTC)

    def _issue(
        self, db: Session, serial: str, collar: str, issued: datetime, returned: datetime | None
    ) -> None:
        issue = fleet.issue_device(
            db,
            SYSTEM,
            device_serial=serial,
            collar_number=collar,
            kind="pooled" if serial.startswith("POOL") else "personal",
            now=issued,
        )
        if returned is not None:
            fleet.return_issue(db, SYSTEM, issue_id=issue.id, now=returned)

    def test_issues_overlapping_the_window_oldest_first_and_no_others(self, db: Session) -> None:
        officers = {
            collar: make_officer(db, collar=collar) for collar in ("4201", "4202", "4203", "4204", "4205")
        }
        for officer in officers.values():
            make_pass(db, officer, "bwv_user", date(2026, 10, 1))
        for serial in ("CAM-A", "CAM-B", "CAM-C", "CAM-D", "CAM-G"):
            make_device(db, serial=serial)
        make_device(db, serial="POOL-E", station="Birmingham", pooled=True)
        self._issue(db, "CAM-A", "4201", self.UNTIL, None)  # issued as the window ends: outside it
        self._issue(db, "CAM-B", "4202", ISSUED, self.SINCE)  # returned as it begins: outside it
        self._issue(db, "POOL-E", "4203", self.SINCE + timedelta(hours=9), None)
        # Issued after POOL-E (a higher id) but out earlier: the order is by the time issued.
        self._issue(db, "CAM-C", "4204", self.SINCE - timedelta(hours=1), self.SINCE + timedelta(seconds=1))
        self._issue(db, "CAM-D", "4205", self.UNTIL + timedelta(hours=1), None)  # after the window
        self._issue(db, "CAM-G", "4204", ISSUED - timedelta(days=1), ISSUED)  # over before the window
        periods = fleet.list_issue_periods(db, device_kind="camera", since=self.SINCE, until=self.UNTIL)
        assert periods == [
            fleet.IssuePeriod(
                device_serial="CAM-C",
                station=None,
                officer_id=officers["4204"].id,
                issue_kind="personal",
                issued_at=self.SINCE - timedelta(hours=1),
                returned_at=self.SINCE + timedelta(seconds=1),
            ),
            fleet.IssuePeriod(
                device_serial="POOL-E",
                station="Birmingham",
                officer_id=officers["4203"].id,
                issue_kind="pooled",
                issued_at=self.SINCE + timedelta(hours=9),
                returned_at=None,
            ),
        ]
        assert fleet.list_issue_periods(db, device_kind="taser", since=self.SINCE, until=self.UNTIL) == []

    def test_issues_of_the_same_moment_come_in_the_order_they_were_made(self, db: Session) -> None:
        """A counter issuing several cameras in one minute: the history lists them as they were issued."""
        serials = ["CAM-T5", "CAM-T3", "CAM-T9", "CAM-T1", "CAM-T7"]
        for n, serial in enumerate(serials):
            make_pass(db, make_officer(db, collar=f"470{n}"), "bwv_user", date(2026, 10, 1))
            make_device(db, serial=serial)
        for n, serial in reversed(list(enumerate(serials))):
            fleet.issue_device(
                db, SYSTEM, device_serial=serial, collar_number=f"470{n}", kind="personal", now=self.SINCE
            )
        periods = fleet.list_issue_periods(db, device_kind="camera", since=self.SINCE, until=self.UNTIL)
        assert [p.device_serial for p in periods] == list(reversed(serials))


class TestHoldersOf:
    def test_the_holders_of_the_devices_asked_about_and_of_no_others(self, db: Session) -> None:
        officers = [make_officer(db, collar=collar) for collar in ("4301", "4302")]
        cameras = [make_device(db, serial=serial) for serial in ("CAM-J", "CAM-K", "CAM-L")]
        for officer, camera in zip(officers, cameras, strict=False):
            make_pass(db, officer, "bwv_user", date(2026, 10, 1))
            fleet.issue_device(
                db, SYSTEM, device_serial=camera.serial, collar_number=officer.collar_number, kind="personal"
            )
        assert issues.holders_of(db, [cameras[0].id, cameras[2].id]) == {cameras[0].id: officers[0].id}
