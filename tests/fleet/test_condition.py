from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from openbwv.errors import Conflict, InvalidInput
from openbwv.fleet import condition, devices, issues, training
from openbwv.policy import SYSTEM, Actor, Role
from tests.builders import make_device, make_officer, make_pass

MANAGER = Actor(username="stores", roles=frozenset({Role.EQUIPMENT_MANAGER}))
DOCK_FEED = Actor(username="dock-feed", roles=frozenset({Role.EQUIPMENT_MANAGER}))
MORNING = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONDITION = ("health_reported", "went_online", "went_offline", "cartridge_discharged")


def _history(db: Session, serial: str) -> list[tuple[str, str, datetime, str | None]]:
    device = devices.get_device(db, serial)
    assert device is not None
    return [
        (m.action, m.actor_username, m.occurred_at, m.note)
        for m in devices.device_history(db, device)
        if m.action in CONDITION
    ]


def _taser_out(db: Session, serial: str = "TD-1") -> None:
    """A loaded Taser issued for a tour to a trained volunteer."""
    officer = make_officer(db, collar="8100")
    make_pass(db, officer, "taser_initial", date(2026, 3, 1))
    training.add_volunteer(db, SYSTEM, collar_number="8100", volunteered_on=date(2026, 3, 1))
    make_device(db, kind="taser", serial=serial)
    for bay in (1, 2):
        devices.load_cartridge(
            db, SYSTEM, taser_serial=serial, serial=f"{serial}-C{bay}", lot="L1",
            expires_on=date(2028, 1, 1), bay=bay, today=date(2026, 5, 1),
        )  # fmt: skip
    issues.issue_device(db, SYSTEM, device_serial=serial, collar_number="8100", kind="tour", now=MORNING)


class TestReportHealth:
    def test_each_change_is_a_dated_attributed_movement(self, db: Session) -> None:
        make_device(db, serial="CH-1")
        condition.report_health(
            db, DOCK_FEED, serial="CH-1", battery_health=91, storage_health=99, now=MORNING
        )
        device = condition.report_health(db, MANAGER, serial="CH-1", battery_health=74, now=NOON)
        assert (device.battery_health, device.storage_health, device.state) == (74, 99, "in_stock")
        assert _history(db, "CH-1") == [
            ("health_reported", "dock-feed", MORNING, "battery unknown → 91%; storage unknown → 99%"),
            ("health_reported", "stores", NOON, "battery 91% → 74%"),
        ]

    def test_a_report_that_changes_nothing_adds_no_row(self, db: Session) -> None:
        make_device(db, serial="CH-2")
        condition.report_health(db, DOCK_FEED, serial="CH-2", battery_health=80, now=MORNING)
        condition.report_health(db, DOCK_FEED, serial="CH-2", battery_health=80, now=NOON)
        assert len(_history(db, "CH-2")) == 1

    def test_a_taser_has_no_health_readings(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TH-1")
        with pytest.raises(Conflict) as refused:
            condition.report_health(db, MANAGER, serial="TH-1", battery_health=50)
        assert refused.value.rule == "not_a_camera"

    def test_out_of_range_or_empty_is_invalid(self, db: Session) -> None:
        make_device(db, serial="CH-3")
        with pytest.raises(InvalidInput):
            condition.report_health(db, MANAGER, serial="CH-3", storage_health=101)
        with pytest.raises(InvalidInput):
            condition.report_health(db, MANAGER, serial="CH-3")


class TestSetOnline:
    def test_going_offline_and_back_is_in_the_history(self, db: Session) -> None:
        make_device(db, kind="dock", serial="DK-1", online=True)
        condition.set_online(db, DOCK_FEED, serial="DK-1", online=False, now=MORNING)
        condition.set_online(db, DOCK_FEED, serial="DK-1", online=False, now=NOON)
        dock = condition.set_online(db, MANAGER, serial="DK-1", online=True, now=NOON)
        assert dock.online is True
        assert _history(db, "DK-1") == [
            ("went_offline", "dock-feed", MORNING, None),
            ("went_online", "stores", NOON, None),
        ]

    def test_only_a_dock_goes_online(self, db: Session) -> None:
        make_device(db, serial="CH-4")
        with pytest.raises(Conflict) as refused:
            condition.set_online(db, MANAGER, serial="CH-4", online=True)
        assert refused.value.rule == "not_a_dock"


class TestDischargeCartridge:
    def test_marks_the_cartridge_with_the_time_and_the_officer_holding_the_taser(self, db: Session) -> None:
        _taser_out(db)
        cartridge = condition.discharge_cartridge(
            db, MANAGER, taser_serial="TD-1", bay=2, discharged_at=NOON, note="incident 123", now=NOON
        )
        assert (cartridge.serial, cartridge.discharged, cartridge.discharged_at) == ("TD-1-C2", True, NOON)
        device = devices.get_device(db, "TD-1")
        assert device is not None
        last = next(m for m in devices.device_history(db, device) if m.action == "cartridge_discharged")
        assert (last.action, last.actor_username, last.occurred_at, last.note, last.to_state) == (
            "cartridge_discharged", "stores", NOON, "bay 2: TD-1-C2; incident 123", "issued",
        )  # fmt: skip
        assert last.officer_id is not None and last.issue_id == device.current_issue_id

    def test_an_empty_bay_or_a_second_discharge_is_refused(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TD-2")
        with pytest.raises(Conflict) as empty:
            condition.discharge_cartridge(db, MANAGER, taser_serial="TD-2", bay=1)
        assert empty.value.rule == "bay_empty"
        devices.load_cartridge(
            db, SYSTEM, taser_serial="TD-2", serial="C-9", lot="L", expires_on=date(2099, 1, 1), bay=1
        )
        condition.discharge_cartridge(db, MANAGER, taser_serial="TD-2", bay=1)
        with pytest.raises(Conflict) as again:
            condition.discharge_cartridge(db, MANAGER, taser_serial="TD-2", bay=1)
        assert again.value.rule == "cartridge_already_discharged"

    def test_a_bay_the_model_does_not_have_is_invalid(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TD-3")
        with pytest.raises(InvalidInput):
            condition.discharge_cartridge(db, MANAGER, taser_serial="TD-3", bay=3)

    def test_a_discharged_cartridge_blocks_issue_until_replaced(self, db: Session) -> None:
        _taser_out(db)
        condition.discharge_cartridge(db, MANAGER, taser_serial="TD-1", bay=1, now=NOON)
        issues.return_device(db, SYSTEM, device_serial="TD-1", now=NOON)
        with pytest.raises(Conflict) as refused:
            issues.issue_device(db, SYSTEM, device_serial="TD-1", collar_number="8100", kind="tour", now=NOON)
        assert refused.value.rule == "cartridge_discharged"
        assert "bay 1 of Taser TD-1" in refused.value.message
        devices.load_cartridge(
            db, SYSTEM, taser_serial="TD-1", serial="TD-1-C3", lot="L2", expires_on=date(2028, 1, 1), bay=1,
            today=date(2026, 6, 1),
        )  # fmt: skip
        device = devices.get_device(db, "TD-1")
        assert device is not None
        assert [c.serial for c in devices.cartridges_of(db, device.id)] == ["TD-1-C3", "TD-1-C2"]
        loads = [m.note for m in devices.device_history(db, device) if m.action == "cartridge_loaded"]
        assert loads[-1] == "bay 1: TD-1-C3, replacing discharged TD-1-C1"
        issue = issues.issue_device(
            db, SYSTEM, device_serial="TD-1", collar_number="8100", kind="tour", now=NOON
        )
        assert issue.returned_at is None
