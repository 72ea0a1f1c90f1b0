"""Every refusal of issue and return, with its rule code and the facts its message must carry; the
due times of each kind of issue; what counts as held; and the audit events issue and return write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet import condition, devices, issues, training
from openbwv.fleet.models import Issue
from openbwv.policy import Actor
from tests.builders import make_device, make_officer, make_pass, make_unit

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CLERK = Actor(username="clerk", user_id=41)


@pytest.fixture(autouse=True)
def _clock_at_now(clock: FixedClock) -> None:
    clock.set(NOW)


def _bwv_officer(db: Session, collar: str) -> str:
    officer = make_officer(db, collar=collar)
    make_pass(db, officer, "bwv_user", date(2026, 1, 10))
    return collar


def _taser_officer(db: Session, collar: str, *, rank: str = "constable", unit: str | None = None) -> str:
    officer = make_officer(
        db, collar=collar, rank=rank, unit=make_unit(db, code=unit, name=f"Unit {unit}") if unit else None
    )
    make_pass(db, officer, "taser_initial", date(2026, 6, 1))
    training.add_volunteer(db, CLERK, collar_number=collar, volunteered_on=date(2026, 1, 1))
    return collar


def _issue(
    db: Session,
    serial: str,
    collar: str,
    kind: str,
    *,
    now: datetime = NOW,
    due_back_at: datetime | None = None,
) -> Issue:
    return issues.issue_device(
        db, CLERK, device_serial=serial, collar_number=collar, kind=kind, now=now, due_back_at=due_back_at
    )


def _refusal(db: Session, serial: str, collar: str, kind: str) -> Conflict:
    with pytest.raises(Conflict) as refused:
        _issue(db, serial, collar, kind)
    return refused.value


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


class TestIssueRefusals:
    def test_an_unknown_kind_of_issue_is_an_input_error(self, db: Session) -> None:
        make_device(db, serial="K1")
        with pytest.raises(InvalidInput) as refused:
            _issue(db, "K1", _bwv_officer(db, "6000"), "loan")
        assert refused.value.message == "kind: must be one of personal, pooled, tour"

    def test_an_unknown_device_or_officer_is_not_found(self, db: Session) -> None:
        make_device(db, serial="K2")
        with pytest.raises(NotFound, match=r"^No such device\.$"):
            _issue(db, "NOPE", _bwv_officer(db, "6001"), "personal")
        with pytest.raises(NotFound, match=r"^No such officer\.$"):
            _issue(db, "K2", "9999", "personal")

    def test_an_officer_who_left_is_refused_with_the_date(self, db: Session) -> None:
        collar = _bwv_officer(db, "6002")
        people.mark_leaver(db, CLERK, collar_number=collar, left_on=date(2026, 11, 20))
        make_device(db, serial="K3")
        refusal = _refusal(db, "K3", collar, "personal")
        assert refusal.rule == "officer_left"
        assert "6002" in refusal.message and "2026-11-20" in refusal.message

    def test_a_dock_is_never_issued(self, db: Session) -> None:
        make_device(db, kind="dock", serial="DOCK1", station="Coventry")
        with pytest.raises(InvalidInput) as refused:
            _issue(db, "DOCK1", _bwv_officer(db, "6003"), "personal")
        assert refused.value.field == "device_serial"
        assert "DOCK1" in refused.value.message

    def test_an_officer_never_trained_on_body_worn_video_gets_no_camera(self, db: Session) -> None:
        make_officer(db, collar="6015")
        make_device(db, serial="K15")
        refusal = _refusal(db, "K15", "6015", "personal")
        assert refusal.rule == "bwv_training_required"
        assert refusal.message == (
            "Officer 6015 has not passed the body-worn video user course; "
            "record the training before issuing a camera."
        )

    def test_a_personal_taser_does_not_count_as_a_personal_camera(self, db: Session) -> None:
        collar = _taser_officer(db, "6016")
        make_pass(db, people.get_officer(db, collar), "bwv_user", date(2026, 1, 10))  # type: ignore[arg-type]
        make_device(db, kind="taser", serial="T16")
        make_device(db, serial="K16")
        _issue(db, "T16", collar, "personal")
        assert _issue(db, "K16", collar, "personal").kind == "personal"

    def test_a_lapsed_body_worn_video_course_is_refused_with_its_lapse_date(self, db: Session) -> None:
        training.create_course(
            db, CLERK, code="bwv_annual", name="BWV annual", authority="bwv", validity_months=6
        )
        officer = make_officer(db, collar="6004")
        make_pass(db, officer, "bwv_annual", date(2026, 5, 26))
        make_device(db, serial="K4")
        refusal = _refusal(db, "K4", "6004", "personal")
        assert refusal.rule == "bwv_training_required"
        assert "6004" in refusal.message and "lapsed on 2026-11-26" in refusal.message

    def test_a_body_worn_video_course_lapsing_tomorrow_still_allows_issue(self, db: Session) -> None:
        training.create_course(
            db, CLERK, code="bwv_annual", name="BWV annual", authority="bwv", validity_months=6
        )
        officer = make_officer(db, collar="6005")
        make_pass(db, officer, "bwv_annual", date(2026, 5, 27))
        make_device(db, serial="K5")
        assert _issue(db, "K5", "6005", "personal").kind == "personal"

    def test_a_camera_is_not_issued_for_a_tour(self, db: Session) -> None:
        make_device(db, serial="K6")
        with pytest.raises(InvalidInput) as refused:
            _issue(db, "K6", _bwv_officer(db, "6006"), "tour")
        assert refused.value.message == "kind: a camera is issued personally or checked out from a pool"

    def test_a_camera_in_stock_cannot_be_checked_out_from_a_pool(self, db: Session) -> None:
        make_device(db, serial="K7")
        refusal = _refusal(db, "K7", _bwv_officer(db, "6007"), "pooled")
        assert refusal.rule == "device_not_available"
        assert refusal.message == "Camera K7 is not a pooled camera (it is in stock)."

    def test_a_second_personal_camera_names_the_one_held(self, db: Session) -> None:
        collar = _bwv_officer(db, "6008")
        make_device(db, serial="HELD1")
        make_device(db, serial="K8")
        _issue(db, "HELD1", collar, "personal")
        refusal = _refusal(db, "K8", collar, "personal")
        assert refusal.rule == "officer_already_has_camera"
        assert "6008" in refusal.message and "camera HELD1" in refusal.message

    def test_a_returned_personal_camera_no_longer_counts_as_held(self, db: Session) -> None:
        collar = _bwv_officer(db, "6009")
        make_device(db, serial="OLD1")
        make_device(db, serial="NEW1")
        issues.return_issue(db, CLERK, issue_id=_issue(db, "OLD1", collar, "personal").id)
        assert _issue(db, "NEW1", collar, "personal").kind == "personal"

    def test_a_pooled_camera_out_does_not_stop_a_personal_issue(self, db: Session) -> None:
        collar = _bwv_officer(db, "6010")
        make_device(db, serial="POOLX", station="Coventry", pooled=True)
        make_device(db, serial="MINE")
        _issue(db, "POOLX", collar, "pooled")
        assert _issue(db, "MINE", collar, "personal").kind == "personal"

    def test_a_device_out_names_its_holder_and_since_when(self, db: Session) -> None:
        first, second = _taser_officer(db, "6011"), _taser_officer(db, "6012")
        make_device(db, kind="taser", serial="TZ1")
        _issue(db, "TZ1", first, "tour", now=NOW - timedelta(hours=2))
        refusal = _refusal(db, "TZ1", second, "tour")
        assert refusal.rule == "already_checked_out"
        assert refusal.message == (
            "Taser TZ1 is already checked out to officer 6011 since 2026-11-26 06:00 UTC and has not been returned."
        )


class TestTaserRefusals:
    def test_a_taser_is_not_checked_out_from_a_pool(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TZ2")
        with pytest.raises(InvalidInput) as refused:
            _issue(db, "TZ2", _taser_officer(db, "6020"), "pooled")
        assert refused.value.message == "kind: a Taser is issued personally or for a tour of duty"

    def test_a_volunteer_who_never_passed_the_initial_course_is_refused(self, db: Session) -> None:
        make_officer(db, collar="6021")
        training.add_volunteer(db, CLERK, collar_number="6021", volunteered_on=date(2026, 1, 1))
        make_device(db, kind="taser", serial="TZ3")
        refusal = _refusal(db, "TZ3", "6021", "personal")
        assert refusal.rule == "taser_authority_required"
        assert "6021" in refusal.message

    def test_a_refusal_for_not_volunteering_names_the_officer(self, db: Session) -> None:
        officer = make_officer(db, collar="6022")
        make_pass(db, officer, "taser_initial", date(2026, 6, 1))
        make_device(db, kind="taser", serial="TZ4")
        refusal = _refusal(db, "TZ4", "6022", "tour")
        assert refusal.rule == "not_volunteer"
        assert "6022" in refusal.message

    def test_a_lapsed_authority_gives_the_lapse_day_and_the_last_pass(self, db: Session) -> None:
        officer = make_officer(db, collar="6023")
        make_pass(db, officer, "taser_initial", date(2025, 11, 26))
        training.add_volunteer(db, CLERK, collar_number="6023", volunteered_on=date(2025, 1, 1))
        make_device(db, kind="taser", serial="TZ5")
        refusal = _refusal(db, "TZ5", "6023", "tour")
        assert refusal.rule == "taser_authority_lapsed"
        assert "6023" in refusal.message
        assert "lapsed on 2026-11-26" in refusal.message and "passed on 2025-11-26" in refusal.message

    def test_a_refusal_for_eligibility_names_rank_unit_date_and_reason(self, db: Session) -> None:
        collar = _taser_officer(db, "6024", rank="sergeant", unit="ARV")
        training.set_eligibility(
            db, CLERK, authority="taser", rank=None, unit="ARV", eligible=False,
            effective_from=date(2026, 10, 1), reason="ARV carry their own",
        )  # fmt: skip
        make_device(db, kind="taser", serial="TZ6")
        refusal = _refusal(db, "TZ6", collar, "tour")
        assert refusal.rule == "not_eligible"
        assert refusal.message == (
            "Officer 6024 (Sergeant, ARV) is not eligible to carry Taser under the policy effective from "
            "2026-10-01: ARV carry their own"
        )

    def test_a_discharged_cartridge_is_named_with_its_bay_and_time(self, db: Session) -> None:
        collar = _taser_officer(db, "6025")
        make_device(db, kind="taser", serial="TZ7")
        devices.load_cartridge(
            db, CLERK, taser_serial="TZ7", serial="CART1", lot="L1", expires_on=date(2027, 6, 1), bay=1
        )
        condition.discharge_cartridge(
            db, CLERK, taser_serial="TZ7", bay=1, discharged_at=datetime(2026, 11, 25, 22, 15, tzinfo=UTC)
        )
        refusal = _refusal(db, "TZ7", collar, "tour")
        assert refusal.rule == "cartridge_discharged"
        assert refusal.message == (
            "Cartridge CART1 in bay 1 of Taser TZ7 was discharged on 2026-11-25 22:15 UTC; "
            "load a new cartridge in bay 1 before issue."
        )

    def test_a_cartridge_expiring_today_is_refused(self, db: Session) -> None:
        collar = _taser_officer(db, "6026")
        make_device(db, kind="taser", serial="TZ8")
        devices.load_cartridge(
            db, CLERK, taser_serial="TZ8", serial="CART2", lot="L1", expires_on=TODAY, bay=1,
            today=date(2026, 10, 1),
        )  # fmt: skip
        refusal = _refusal(db, "TZ8", collar, "tour")
        assert refusal.rule == "cartridge_expired"
        assert (
            refusal.message
            == "Cartridge CART2 in bay 1 of Taser TZ8 expired on 2026-11-26; replace it before issue."
        )

    def test_a_cartridge_expiring_tomorrow_is_issued(self, db: Session) -> None:
        collar = _taser_officer(db, "6027")
        make_device(db, kind="taser", serial="TZ9")
        devices.load_cartridge(
            db, CLERK, taser_serial="TZ9", serial="CART3", lot="L1", expires_on=TODAY + timedelta(days=1),
            bay=1, today=date(2026, 10, 1),
        )  # fmt: skip
        assert _issue(db, "TZ9", collar, "tour").kind == "tour"


class TestDueTimes:
    def test_a_personal_issue_has_no_due_time(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TD1")
        assert _issue(db, "TD1", _taser_officer(db, "6030"), "personal").due_back_at is None

    def test_a_pooled_camera_is_due_back_in_twelve_hours(self, db: Session) -> None:
        make_device(db, serial="PD1", station="Coventry", pooled=True)
        issue = _issue(db, "PD1", _bwv_officer(db, "6031"), "pooled")
        assert issue.due_back_at == NOW + timedelta(hours=12)
        assert (issue.device_kind, issue.station, issue.issued_at) == ("camera", "Coventry", NOW)
        camera = devices.get_device(db, "PD1")
        assert camera is not None
        moved = devices.device_history(db, camera)[-1]
        assert (moved.action, moved.to_state, moved.issue_id) == ("checked_out", "issued", issue.id)

    def test_a_given_due_time_is_kept(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TD2")
        due = NOW + timedelta(hours=4)
        assert _issue(db, "TD2", _taser_officer(db, "6032"), "tour", due_back_at=due).due_back_at == due


class TestIssueAndReturnAudit:
    def test_issue_and_return_each_write_their_event(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TA1")
        issue = _issue(db, "TA1", _taser_officer(db, "6040"), "tour")
        assert (issue.issued_by, issue.station) == ("clerk", None)
        [issued] = _events(db, "fleet:device:issued")
        assert (issued.actor_username, issued.actor_user_id) == ("clerk", 41)
        assert (issued.target_type, issued.target_id) == ("device", "TA1")
        assert issued.details == {"officer": "6040", "kind": "tour", "issue": issue.id}
        issues.return_issue(db, CLERK, issue_id=issue.id, now=NOW + timedelta(hours=11))
        [returned] = _events(db, "fleet:device:returned")
        assert (returned.actor_username, returned.target_type, returned.target_id) == (
            "clerk",
            "device",
            "TA1",
        )
        assert returned.details == {"issue": issue.id, "late": True}

    def test_a_return_exactly_at_the_due_time_is_not_late(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TA2")
        taser = devices.get_device(db, "TA2")
        issue = _issue(db, "TA2", _taser_officer(db, "6041"), "tour")
        back = issues.return_issue(db, CLERK, issue_id=issue.id, now=NOW + timedelta(hours=10))
        assert (back.returned_at, back.returned_by) == (NOW + timedelta(hours=10), "clerk")
        [returned] = _events(db, "fleet:device:returned")
        assert returned.details == {"issue": issue.id, "late": False}
        assert taser is not None and taser.state == "in_stock" and taser.current_issue_id is None
        last = devices.device_history(db, taser)[-1]
        assert (last.action, last.to_state, last.note, last.issue_id) == (
            "returned",
            "in_stock",
            None,
            issue.id,
        )

    def test_a_return_note_is_kept_on_the_movement(self, db: Session) -> None:
        collar = _bwv_officer(db, "6042")
        camera = make_device(db, serial="RN1")
        issue = _issue(db, "RN1", collar, "personal")
        issues.return_issue(db, CLERK, issue_id=issue.id, note="strap broken")
        assert devices.device_history(db, camera)[-1].note == "strap broken"

    def test_returning_twice_says_when_it_came_back(self, db: Session) -> None:
        make_device(db, serial="RT1")
        issue = _issue(db, "RT1", _bwv_officer(db, "6043"), "personal")
        issues.return_issue(db, CLERK, issue_id=issue.id, now=NOW + timedelta(minutes=30))
        with pytest.raises(Conflict) as refused:
            issues.return_issue(db, CLERK, issue_id=issue.id)
        assert refused.value.rule == "already_returned"
        assert refused.value.message == "Camera RT1 was already returned at 2026-11-26 08:30 UTC."

    def test_an_unknown_issue_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such issue\.$"):
            issues.return_issue(db, CLERK, issue_id=424242)


class TestReturnDevice:
    def test_the_scan_returns_the_issue_the_device_is_out_on(self, db: Session) -> None:
        make_device(db, serial="SC1")
        issue = _issue(db, "SC1", _bwv_officer(db, "6050"), "personal")
        back = NOW + timedelta(hours=3)
        assert issues.return_device(db, CLERK, device_serial="sc1", now=back).id == issue.id
        assert issue.returned_at is not None and issue.returned_at.replace(tzinfo=UTC) == back

    def test_a_device_not_out_is_refused(self, db: Session) -> None:
        make_device(db, serial="SC2")
        with pytest.raises(Conflict) as refused:
            issues.return_device(db, CLERK, device_serial="SC2")
        assert (refused.value.rule, refused.value.message) == (
            "not_issued",
            "Camera SC2 is not out on issue.",
        )
        with pytest.raises(NotFound, match=r"^No such device\.$"):
            issues.return_device(db, CLERK, device_serial="NONE")


class TestWhatIsHeld:
    def test_kit_open_issues_and_holders_leave_out_returned_issues(self, db: Session) -> None:
        collar = _taser_officer(db, "6060")
        _bwv_officer(db, "6061")
        officer = people.get_officer(db, collar)
        assert officer is not None
        make_device(db, kind="taser", serial="H1")
        make_device(db, kind="taser", serial="H2")
        make_device(db, kind="taser", serial="H0")
        make_device(db, serial="H3", station="Coventry", pooled=True)
        old = _issue(db, "H1", collar, "tour", now=NOW - timedelta(hours=1))
        issues.return_issue(db, CLERK, issue_id=old.id, now=NOW - timedelta(minutes=30))
        _issue(db, "H2", collar, "tour", now=NOW - timedelta(minutes=20))
        _issue(db, "H0", collar, "tour", now=NOW - timedelta(minutes=50))
        _issue(db, "H3", "6061", "pooled", now=NOW - timedelta(minutes=40))
        assert [d.serial for _, d in issues.officer_kit(db, officer.id)] == ["H0", "H2"]
        assert {k: sorted(v) for k, v in issues.officers_holding(db, "taser").items()} == {
            officer.id: ["H0", "H2"]
        }
        assert [o.device.serial for o in issues.list_open_issues(db, now=NOW)] == ["H0", "H3", "H2"]
        assert [o.device.serial for o in issues.list_open_issues(db, now=NOW, device_kind="taser")] == [
            "H0",
            "H2",
        ]

    def test_overdue_means_past_the_due_time_and_never_for_a_personal_issue(self, db: Session) -> None:
        make_device(db, kind="taser", serial="O1")
        make_device(db, kind="taser", serial="O2")
        _issue(db, "O1", _taser_officer(db, "6062"), "tour")
        _issue(db, "O2", _taser_officer(db, "6063"), "personal")
        due = NOW + timedelta(hours=10)
        assert [o.overdue for o in issues.list_open_issues(db, now=due)] == [False, False]
        assert issues.list_open_issues(db, now=due, overdue_only=True) == []
        later = due + timedelta(seconds=1)
        assert [(o.device.serial, o.overdue) for o in issues.list_open_issues(db, now=later)] == [
            ("O1", True),
            ("O2", False),
        ]
        assert [o.device.serial for o in issues.list_open_issues(db, now=later, overdue_only=True)] == ["O1"]


class TestHolderAt:
    def test_the_holder_from_the_moment_of_issue_of_that_device_only(self, db: Session) -> None:
        collar = _bwv_officer(db, "6070")
        make_device(db, serial="HA1")
        make_device(db, serial="HA2")
        issue = _issue(db, "HA1", collar, "personal")
        holder = issues.holder_at(db, " ha1 ", NOW)
        assert holder is not None and (holder.collar_number, holder.issue_id) == ("6070", issue.id)
        assert issues.holder_at(db, "HA2", NOW + timedelta(hours=1)) is None
