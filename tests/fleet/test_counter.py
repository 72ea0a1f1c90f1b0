"""The counter's rules: one scan decides, today's list, undo of the last transaction within a minute."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv.audit import AuditAction, AuditEvent
from openbwv.clock import FixedClock
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet import counter, devices, issues
from openbwv.policy import SYSTEM, Actor, Role
from tests.builders import make_device, make_officer, make_pass

CLERK = Actor(username="clerk", roles=frozenset({Role.EQUIPMENT_MANAGER}))
OTHER_CLERK = Actor(username="other.clerk", roles=frozenset({Role.EQUIPMENT_MANAGER}))


def _trained(db: Session, collar: str, name: str = "Grace Green") -> None:
    officer = make_officer(db, collar=collar, name=name)
    make_pass(db, officer, "bwv_user", date(2026, 1, 1))


def _actions(db: Session, action: AuditAction) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class TestScan:
    def test_a_free_device_without_a_collar_number_asks_for_one(self, db: Session) -> None:
        make_device(db, serial="CAM-S1")
        scanned = counter.scan(db, CLERK, serial=" cam-s1 ")
        assert scanned.movement is None and scanned.device.serial == "CAM-S1"
        assert scanned.device.state == "in_stock"

    def test_with_a_collar_number_it_issues(self, db: Session) -> None:
        _trained(db, "4001")
        make_device(db, serial="CAM-S2")
        scanned = counter.scan(db, CLERK, serial="CAM-S2", collar_number="4001")
        assert scanned.movement is not None and scanned.movement.action == "issued"
        assert scanned.device.state == "issued"

    def test_a_device_that_is_out_comes_back(self, db: Session) -> None:
        _trained(db, "4002")
        make_device(db, serial="CAM-S3")
        counter.scan(db, CLERK, serial="CAM-S3", collar_number="4002")
        scanned = counter.scan(db, CLERK, serial="CAM-S3")
        assert scanned.movement is not None and scanned.movement.action == "returned"
        assert scanned.device.state == "in_stock"

    def test_a_pooled_camera_is_checked_out_unless_told_otherwise(self, db: Session) -> None:
        _trained(db, "4003")
        make_device(db, serial="CAM-S4", station="Coventry", pooled=True)
        scanned = counter.scan(db, CLERK, serial="CAM-S4", collar_number="4003")
        assert scanned.movement is not None and scanned.movement.action == "checked_out"

    def test_an_unknown_serial_repeats_what_was_typed(self, db: Session) -> None:
        with pytest.raises(NotFound) as refused:
            counter.scan(db, CLERK, serial="CAM-NOPE ")
        assert refused.value.message == "No such device: CAM-NOPE."
        assert counter.field_at_fault(refused.value) == "serial"

    def test_an_unknown_collar_number_points_at_the_collar_field(self, db: Session) -> None:
        make_device(db, serial="CAM-S5")
        with pytest.raises(NotFound) as refused:
            counter.scan(db, CLERK, serial="CAM-S5", collar_number="9999")
        assert refused.value.message == "No such officer with collar number 9999."
        assert counter.field_at_fault(refused.value) == "collar_number"

    def test_a_blank_scan_is_refused_without_a_field_name(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            counter.scan(db, CLERK, serial="  ")
        assert refused.value.reason == "scan or type the device's serial"

    def test_a_refusal_about_the_officer_points_at_the_collar_field(self, db: Session) -> None:
        make_officer(db, collar="4004")
        make_device(db, serial="CAM-S6")
        with pytest.raises(Conflict) as refused:
            counter.scan(db, CLERK, serial="CAM-S6", collar_number="4004")
        assert refused.value.rule == "bwv_training_required"
        assert counter.field_at_fault(refused.value) == "collar_number"

    def test_a_lost_device_is_refused_before_asking_for_an_officer(self, db: Session) -> None:
        make_device(db, serial="CAM-S7")
        devices.change_state(db, SYSTEM, serial="CAM-S7", state="lost", note="Dropped in the canal")
        with pytest.raises(Conflict) as refused:
            counter.scan(db, CLERK, serial="CAM-S7")
        assert refused.value.rule == "device_lost"
        assert "Camera CAM-S7 was reported lost on 2026-11-26 and cannot be issued" in refused.value.message


class TestTodaysTransactions:
    def test_lists_this_counters_transactions_of_today_newest_first(
        self, db: Session, clock: FixedClock
    ) -> None:
        _trained(db, "4101", name="Ada Obi")
        make_device(db, serial="CAM-T1")
        make_device(db, serial="CAM-T2")
        clock.advance(timedelta(days=-1))
        counter.scan(db, CLERK, serial="CAM-T2", collar_number="4101")
        counter.scan(db, CLERK, serial="CAM-T2")
        clock.advance(timedelta(days=1))
        counter.scan(db, OTHER_CLERK, serial="CAM-T2", collar_number="4101")
        counter.scan(db, OTHER_CLERK, serial="CAM-T2")
        counter.scan(db, CLERK, serial="CAM-T1", collar_number="4101")
        clock.advance(timedelta(seconds=20))
        counter.scan(db, CLERK, serial="CAM-T1")
        today = counter.todays_transactions(db, CLERK)
        assert [(t.device.serial, t.movement.action) for t in today] == [
            ("CAM-T1", "returned"),
            ("CAM-T1", "issued"),
        ]
        assert today[0].officer is not None
        assert (today[0].officer.collar_number, today[0].officer.name) == ("4101", "Ada Obi")
        assert [t.undoable for t in today] == [True, False]


class TestUndo:
    def test_undoing_an_issue_puts_the_device_back_and_is_audited(
        self, db: Session, clock: FixedClock
    ) -> None:
        _trained(db, "4201")
        make_device(db, serial="CAM-U1")
        issued = counter.scan(db, CLERK, serial="CAM-U1", collar_number="4201").movement
        assert issued is not None
        clock.advance(timedelta(seconds=59))
        undone = counter.undo(db, CLERK, movement_id=issued.id)
        assert undone.action == "issue_undone"
        camera = devices.get_device(db, "CAM-U1")
        assert camera is not None and camera.state == "in_stock" and camera.current_issue_id is None
        assert [t.movement.action for t in counter.todays_transactions(db, CLERK)] == [
            "issue_undone",
            "issued",
        ]
        assert len(_actions(db, AuditAction.FLEET_DEVICE_ISSUE_UNDONE)) == 1

    def test_undoing_a_return_gives_the_device_back_on_the_same_issue(self, db: Session) -> None:
        _trained(db, "4202")
        make_device(db, serial="CAM-U2")
        issued = counter.scan(db, CLERK, serial="CAM-U2", collar_number="4202").movement
        returned = counter.scan(db, CLERK, serial="CAM-U2").movement
        assert issued is not None and returned is not None
        counter.undo(db, CLERK, movement_id=returned.id)
        camera = devices.get_device(db, "CAM-U2")
        assert camera is not None and camera.state == "issued" and camera.current_issue_id == issued.issue_id
        assert [o.issue.id for o in issues.list_open_issues(db)] == [issued.issue_id]
        assert len(_actions(db, AuditAction.FLEET_DEVICE_RETURN_UNDONE)) == 1

    def test_after_a_minute_it_is_too_late(self, db: Session, clock: FixedClock) -> None:
        _trained(db, "4203")
        make_device(db, serial="CAM-U3")
        issued = counter.scan(db, CLERK, serial="CAM-U3", collar_number="4203").movement
        assert issued is not None
        clock.advance(timedelta(seconds=61))
        assert [t.undoable for t in counter.todays_transactions(db, CLERK)] == [False]
        with pytest.raises(Conflict) as refused:
            counter.undo(db, CLERK, movement_id=issued.id)
        assert refused.value.rule == "undo_too_late"

    def test_only_the_last_transaction_can_be_undone(self, db: Session) -> None:
        _trained(db, "4204")
        make_device(db, serial="CAM-U4")
        make_device(db, serial="CAM-U5")
        first = counter.scan(db, CLERK, serial="CAM-U4", collar_number="4204").movement
        counter.scan(db, CLERK, serial="CAM-U4")
        assert first is not None
        with pytest.raises(Conflict) as refused:
            counter.undo(db, CLERK, movement_id=first.id)
        assert refused.value.rule == "undo_not_last"

    def test_another_counters_transaction_is_not_found(self, db: Session) -> None:
        _trained(db, "4205")
        make_device(db, serial="CAM-U6")
        issued = counter.scan(db, OTHER_CLERK, serial="CAM-U6", collar_number="4205").movement
        assert issued is not None
        with pytest.raises(NotFound):
            counter.undo(db, CLERK, movement_id=issued.id)

    def test_a_device_moved_since_by_someone_else_cannot_be_undone(self, db: Session) -> None:
        _trained(db, "4206")
        make_device(db, serial="CAM-U7")
        issued = counter.scan(db, CLERK, serial="CAM-U7", collar_number="4206").movement
        counter.scan(db, OTHER_CLERK, serial="CAM-U7")
        assert issued is not None
        with pytest.raises(Conflict) as refused:
            counter.undo(db, CLERK, movement_id=issued.id)
        assert refused.value.rule == "undo_superseded"
