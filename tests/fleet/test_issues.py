from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from openbwv.clock import FixedClock
from openbwv.errors import Conflict, InvalidInput
from openbwv.fleet import devices, issues, training
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass, make_unit

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock_at_now(clock: FixedClock) -> None:
    """What a test does not date itself happens at ``NOW`` too."""
    clock.set(NOW)


def _refused(excinfo: pytest.ExceptionInfo[Conflict]) -> tuple[str | None, str]:
    return excinfo.value.rule, excinfo.value.message


def _taser_ready(
    db: Session, *, rank: str = "constable", passed_on: date = date(2026, 6, 1)
) -> tuple[str, str]:
    officer = make_officer(db, rank=rank)
    make_pass(db, officer, "taser_initial", passed_on)
    training.add_volunteer(db, SYSTEM, collar_number=officer.collar_number, volunteered_on=date(2026, 1, 1))
    taser = make_device(db, kind="taser")
    return officer.collar_number, taser.serial


class TestIssueCamera:
    def test_trained_officer_gets_a_personal_camera_and_the_move_is_recorded(self, db: Session) -> None:
        officer = make_officer(db, collar="5001")
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        camera = make_device(db, serial="CAM1", now=NOW - timedelta(days=1))
        issue = issues.issue_device(
            db, SYSTEM, device_serial="cam1", collar_number="5001", kind="personal", now=NOW
        )
        assert camera.state == "issued"
        assert camera.current_issue_id == issue.id
        history = devices.device_history(db, camera)
        assert [(m.action, m.from_state, m.to_state) for m in history] == [
            ("received", None, "in_stock"),
            ("issued", "in_stock", "issued"),
        ]
        assert history[1].officer_id == officer.id

    def test_officer_without_bwv_training_is_refused(self, db: Session) -> None:
        make_officer(db, collar="5002")
        make_device(db, serial="CAM2")
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial="CAM2", collar_number="5002", kind="personal", now=NOW
            )
        rule, message = _refused(refused)
        assert rule == "bwv_training_required"
        assert "5002" in message

    def test_pooled_camera_checked_out_twice_is_refused(self, db: Session) -> None:
        first, second = make_officer(db, collar="5003"), make_officer(db, collar="5004")
        for officer in (first, second):
            make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="POOL1", station="Birmingham", pooled=True)
        issues.issue_device(db, SYSTEM, device_serial="POOL1", collar_number="5003", kind="pooled", now=NOW)
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial="POOL1", collar_number="5004", kind="pooled", now=NOW
            )
        rule, message = _refused(refused)
        assert rule == "already_checked_out"
        assert "officer 5003 since 2026-11-26 08:00" in message

    def test_camera_in_repair_is_not_available(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="CAM3")
        devices.change_state(db, SYSTEM, serial="CAM3", state="in_repair", note="cracked lens")
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial="CAM3", collar_number=officer.collar_number, kind="personal"
            )
        assert _refused(refused) == ("device_not_available", "Camera CAM3 is in repair and cannot be issued.")

    def test_a_stolen_device_is_refused_with_its_own_rule(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="CAM3S")
        devices.change_state(db, SYSTEM, serial="CAM3S", state="stolen", note="Car broken into, CR/1/26")
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial="CAM3S", collar_number=officer.collar_number, kind="personal"
            )
        assert _refused(refused) == (
            "device_stolen",
            "Camera CAM3S was reported stolen on 2026-11-26 and cannot be issued; if it has been found, "
            "put it back in stock from its page first.",
        )

    def test_a_device_lost_while_out_ends_the_issue_and_can_be_found_again(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="CAM3L")
        issues.issue_device(
            db, SYSTEM, device_serial="CAM3L", collar_number=officer.collar_number, kind="personal"
        )
        with pytest.raises(InvalidInput):
            devices.change_state(db, SYSTEM, serial="CAM3L", state="lost")
        lost = devices.change_state(db, SYSTEM, serial="CAM3L", state="lost", note="Lost in a foot chase")
        assert lost.state == "lost" and lost.current_issue_id is None
        assert issues.officer_kit(db, officer.id) == []
        reported = devices.device_history(db, lost)[-1]
        assert (reported.action, reported.officer_id, reported.note) == (
            "reported_lost",
            officer.id,
            "Lost in a foot chase",
        )
        found = devices.change_state(db, SYSTEM, serial="CAM3L", state="in_stock", note="Handed in")
        assert found.state == "in_stock"
        issues.issue_device(
            db, SYSTEM, device_serial="CAM3L", collar_number=officer.collar_number, kind="personal"
        )

    def test_a_second_personal_camera_is_refused(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="CAM4")
        make_device(db, serial="CAM5")
        issues.issue_device(
            db, SYSTEM, device_serial="CAM4", collar_number=officer.collar_number, kind="personal"
        )
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial="CAM5", collar_number=officer.collar_number, kind="personal"
            )
        assert refused.value.rule == "officer_already_has_camera"


class TestIssueTaser:
    def test_officer_in_date_gets_a_taser_for_a_tour(self, db: Session) -> None:
        collar, serial = _taser_ready(db)
        issue = issues.issue_device(
            db, SYSTEM, device_serial=serial, collar_number=collar, kind="tour", now=NOW
        )
        assert issue.due_back_at == NOW + timedelta(hours=10)

    def test_refresher_lapsed_yesterday_is_refused_with_the_lapse_date(self, db: Session) -> None:
        yesterday = TODAY - timedelta(days=1)
        collar, serial = _taser_ready(db, passed_on=training.add_months(yesterday, -12))
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=NOW
            )
        rule, message = _refused(refused)
        assert rule == "taser_authority_lapsed"
        assert "lapsed on 2026-11-25" in message

    def test_refresher_passed_keeps_authority_in_date(self, db: Session) -> None:
        collar, serial = _taser_ready(db, passed_on=date(2025, 11, 1))
        officer_passes = training.record_pass(
            db,
            SYSTEM,
            collar_number=collar,
            course="taser_refresher",
            passed_on=date(2026, 10, 20),
            today=TODAY,
        )
        assert officer_passes.expires_on == date(2027, 10, 20)
        issue = issues.issue_device(
            db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=NOW
        )
        assert issue.kind == "personal"

    def test_sergeants_not_funded_by_the_stra_are_not_eligible(self, db: Session) -> None:
        collar, serial = _taser_ready(db, rank="sergeant")
        training.set_eligibility(
            db,
            SYSTEM,
            authority="taser",
            rank="sergeant",
            unit=None,
            eligible=False,
            effective_from=date(2026, 4, 1),
            reason="STRA 2026: refresher not funded for sergeants.",
        )
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=NOW
            )
        rule, message = _refused(refused)
        assert rule == "not_eligible"
        assert "effective from 2026-04-01" in message

    def test_a_policy_not_yet_in_force_does_not_refuse(self, db: Session) -> None:
        collar, serial = _taser_ready(db, rank="sergeant")
        training.set_eligibility(
            db, SYSTEM, authority="taser", rank="sergeant", unit=None, eligible=False,
            effective_from=date(2027, 4, 1), reason="From next year.",
        )  # fmt: skip
        issues.issue_device(db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=NOW)

    def test_officer_not_on_the_volunteers_register_is_refused(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "taser_initial", date(2026, 6, 1))
        taser = make_device(db, kind="taser")
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial=taser.serial, collar_number=officer.collar_number, kind="personal"
            )
        assert refused.value.rule == "not_volunteer"

    def test_a_taser_with_an_expired_cartridge_is_refused(self, db: Session) -> None:
        collar, serial = _taser_ready(db)
        devices.load_cartridge(
            db, SYSTEM, taser_serial=serial, serial="C1", lot="L7", expires_on=date(2026, 11, 1), bay=1,
            today=date(2026, 10, 1),
        )  # fmt: skip
        with pytest.raises(Conflict) as refused:
            issues.issue_device(
                db, SYSTEM, device_serial=serial, collar_number=collar, kind="personal", now=NOW
            )
        assert refused.value.rule == "cartridge_expired"
        assert "expired on 2026-11-01" in refused.value.message


class TestReturnIssue:
    def test_pooled_camera_goes_back_to_its_pool_and_late_return_is_noted(self, db: Session) -> None:
        officer = make_officer(db, unit=make_unit(db, code="CID"))
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        camera = make_device(db, serial="POOL2", station="Coventry", pooled=True)
        issue = issues.issue_device(
            db, SYSTEM, device_serial="POOL2", collar_number=officer.collar_number, kind="pooled", now=NOW
        )
        assert [o.overdue for o in issues.list_open_issues(db, now=NOW + timedelta(hours=13))] == [True]
        issues.return_issue(db, SYSTEM, issue_id=issue.id, now=NOW + timedelta(hours=13))
        assert camera.state == "pooled"
        assert camera.current_issue_id is None
        last = devices.device_history(db, camera)[-1]
        assert (last.action, last.to_state, last.note) == ("checked_in", "pooled", "returned late")
        assert [m.action for m, _ in devices.officer_history(db, officer.id)] == ["checked_in", "checked_out"]

    def test_returning_twice_is_refused(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        make_device(db, serial="CAM9")
        issue = issues.issue_device(
            db, SYSTEM, device_serial="CAM9", collar_number=officer.collar_number, kind="personal"
        )
        issues.return_issue(db, SYSTEM, issue_id=issue.id)
        with pytest.raises(Conflict) as refused:
            issues.return_issue(db, SYSTEM, issue_id=issue.id)
        assert refused.value.rule == "already_returned"
