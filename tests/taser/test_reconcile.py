"""Reconciling Taser logs with reports on both databases: an unreported trigger pull only once its
report is due and none accounts for it, spark tests told apart, and a report's time against the
device's within the tolerance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.domains import JobContext
from openbwv.policy import Actor, Role
from openbwv.taser import file_deployment, reconcile
from openbwv.taser.device_logs import import_device_log
from openbwv.taser.domain import DOMAIN, RECONCILE_DEVICE_LOGS
from openbwv.taser.models import Deployment, DeviceLogEntry, TaserException
from openbwv.taser.settings import set_setting
from tests.builders import make_device
from tests.taser.builders import make_taser_holder, report_in
from tests.taser.device_log_builders import as_json, event, fired, trigger

MANAGER = Actor(username="stores", roles=frozenset({Role.EQUIPMENT_MANAGER}), user_id=None)
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}), user_id=None)
STANDARDS = Actor(username="psd", roles=frozenset({Role.PROFESSIONAL_STANDARDS}), user_id=None)


def _import(db: Session, events: list[dict[str, object]]) -> int:
    return import_device_log(db, MANAGER, content=as_json(events), log_format="json").exceptions_raised


def _exceptions(db: Session, kind: str) -> list[TaserException]:
    return list(db.scalars(select(TaserException).where(TaserException.kind == kind)))


def _entry(db: Session, serial: str, at: datetime, kind: str = "trigger") -> DeviceLogEntry:
    found = db.scalar(
        select(DeviceLogEntry).where(
            DeviceLogEntry.taser_serial == serial,
            DeviceLogEntry.occurred_at == at,
            DeviceLogEntry.kind == kind,
        )
    )
    assert found is not None
    return found


def _report(db: Session, collar: str, at: datetime, **overrides: object) -> Deployment:
    return file_deployment(db, SERGEANT, report_in(collar, occurred_at=at.isoformat(), **overrides))


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


class TestUnreportedTrigger:
    def test_raised_only_once_the_report_is_due(self, db: Session, clock: FixedClock) -> None:
        make_taser_holder(db, collar="7201")
        pulled = _second(clock.now() - timedelta(hours=1))
        assert _import(db, fired("TS-7201", pulled)) == 0
        assert _entry(db, "TS-7201", pulled).verdict is None

        clock.advance(timedelta(hours=22, minutes=59))
        assert reconcile.reconcile_due_entries(db).judged == 0
        clock.advance(timedelta(minutes=2))
        assert reconcile.reconcile_due_entries(db) == reconcile.Reconciled(judged=1, raised=1)

        [raised] = _exceptions(db, "unreported_trigger")
        assert (raised.taser_serial, raised.occurred_at, raised.deployment_id) == ("TS-7201", pulled, None)
        assert raised.details["trigger_at"] == pulled.isoformat()
        assert raised.details["duration_s"] == 5
        assert raised.details["cartridge_bays"] == [1]
        assert _entry(db, "TS-7201", pulled).verdict == "unreported"
        assert reconcile.reconcile_due_entries(db).judged == 0

    def test_a_log_imported_after_the_due_time_is_judged_at_import(self, db: Session) -> None:
        make_taser_holder(db, collar="7202")
        pulled = _second(clock.now() - timedelta(hours=30))
        assert _import(db, fired("TS-7202", pulled, bay=2)) == 1
        [raised] = _exceptions(db, "unreported_trigger")
        assert raised.details["cartridge_bays"] == [2]

    def test_a_report_filed_in_time_accounts_for_the_trigger(self, db: Session, clock: FixedClock) -> None:
        make_taser_holder(db, collar="7203")
        pulled = _second(clock.now() - timedelta(hours=2))
        deployment = _report(db, "7203", pulled + timedelta(minutes=2))
        _import(db, fired("TS-7203", pulled))
        clock.advance(timedelta(hours=23))
        assert reconcile.reconcile_due_entries(db) == reconcile.Reconciled(judged=1, raised=0)
        entry = _entry(db, "TS-7203", pulled)
        assert (entry.verdict, entry.deployment_id) == ("reported", deployment.id)
        assert _exceptions(db, "unreported_trigger") == []

    def test_a_report_filed_after_the_due_time_does_not(self, db: Session, clock: FixedClock) -> None:
        make_taser_holder(db, collar="7204")
        pulled = _second(clock.now() - timedelta(hours=2))
        _import(db, fired("TS-7204", pulled))
        clock.advance(timedelta(hours=23))
        late = _report(db, "7204", pulled)
        clock.advance(timedelta(hours=1))
        reconcile.reconcile_due_entries(db)
        [raised] = _exceptions(db, "unreported_trigger")
        assert raised.details["late_report"] == late.id

    def test_the_due_time_is_the_setting(self, db: Session, clock: FixedClock) -> None:
        make_taser_holder(db, collar="7205")
        set_setting(db, STANDARDS, "report_due_hours", 4)
        pulled = _second(clock.now() - timedelta(hours=1))
        _import(db, fired("TS-7205", pulled))
        clock.advance(timedelta(hours=3, minutes=1))
        assert reconcile.reconcile_due_entries(db).raised == 1


class TestSparkTest:
    def test_a_short_pull_with_no_cartridge_in_the_armoury_is_a_spark_test(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TS-7211", model="X2")
        tested = _second(clock.now() - timedelta(hours=30))
        assert _import(db, [trigger("TS-7211", tested, seconds=5)]) == 0
        assert _entry(db, "TS-7211", tested).verdict == "spark_test"
        assert _exceptions(db, "unreported_trigger") == []

    def test_at_the_start_of_a_shift_is_a_spark_test(self, db: Session) -> None:
        issued = _second(clock.now() - timedelta(hours=30))
        make_taser_holder(db, collar="7212", issued_at=issued)
        tested = issued + timedelta(minutes=10)
        _import(db, [event("TS-7212", tested, "Arc", duration_seconds=3)])
        assert _entry(db, "TS-7212", tested, "arc").verdict == "spark_test"

    def test_later_in_the_shift_it_is_a_use(self, db: Session) -> None:
        issued = _second(clock.now() - timedelta(hours=30))
        make_taser_holder(db, collar="7213", issued_at=issued)
        arced = issued + timedelta(hours=2)
        assert _import(db, [event("TS-7213", arced, "Arc", duration_seconds=3)]) == 1
        assert _entry(db, "TS-7213", arced, "arc").verdict == "unreported"

    def test_a_cartridge_deployed_in_the_armoury_is_no_spark_test(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TS-7214", model="X2")
        pulled = _second(clock.now() - timedelta(hours=30))
        assert _import(db, fired("TS-7214", pulled)) == 1

    def test_a_long_pull_in_the_armoury_is_no_spark_test(self, db: Session) -> None:
        make_device(db, kind="taser", serial="TS-7215", model="X2")
        pulled = _second(clock.now() - timedelta(hours=30))
        assert _import(db, [trigger("TS-7215", pulled, seconds=10)]) == 1


class TestTimeMismatch:
    def test_raised_when_the_device_is_over_the_tolerance_from_the_report(self, db: Session) -> None:
        make_taser_holder(db, collar="7221")
        reported = _second(clock.now() - timedelta(hours=1))
        deployment = _report(db, "7221", reported)
        device = reported + timedelta(minutes=10)
        assert _import(db, fired("TS-7221", device)) == 1
        [raised] = _exceptions(db, "time_mismatch")
        assert raised.deployment_id == deployment.id
        assert raised.details["report_at"] == reported.isoformat()
        assert raised.details["device_at"] == device.isoformat()
        assert raised.details["difference_s"] == 600

    def test_not_raised_within_the_tolerance(self, db: Session) -> None:
        make_taser_holder(db, collar="7222")
        reported = _second(clock.now() - timedelta(hours=1))
        _report(db, "7222", reported)
        assert _import(db, fired("TS-7222", reported - timedelta(minutes=4))) == 0
        assert _exceptions(db, "time_mismatch") == []

    def test_a_wider_tolerance_changes_the_verdict(self, db: Session) -> None:
        make_taser_holder(db, collar="7223")
        set_setting(db, STANDARDS, "device_time_tolerance_s", 900)
        reported = _second(clock.now() - timedelta(hours=1))
        _report(db, "7223", reported)
        assert _import(db, fired("TS-7223", reported + timedelta(minutes=10))) == 0
        set_setting(db, STANDARDS, "device_time_tolerance_s", 300)
        deployment = db.scalar(select(Deployment).where(Deployment.taser_serial == "TS-7223"))
        assert deployment is not None
        assert reconcile.reconcile_report(db, deployment) is not None

    def test_a_report_filed_after_the_import_is_checked_when_filed(self, db: Session) -> None:
        make_taser_holder(db, collar="7224")
        device = _second(clock.now() - timedelta(hours=2))
        _import(db, fired("TS-7224", device))
        deployment = _report(db, "7224", device + timedelta(minutes=30))
        [raised] = _exceptions(db, "time_mismatch")
        assert (raised.deployment_id, raised.details["difference_s"]) == (deployment.id, 1800)
        assert reconcile.reconcile_report(db, deployment) is None

    def test_a_report_filed_as_of_an_earlier_moment_raises_its_mismatch_as_of_then(self, db: Session) -> None:
        make_taser_holder(db, collar="7227")
        device = _second(clock.now() - timedelta(hours=2))
        _import(db, fired("TS-7227", device))
        filed_at = _second(clock.now() - timedelta(hours=1))
        file_deployment(
            db,
            SERGEANT,
            report_in("7227", occurred_at=(device + timedelta(minutes=30)).isoformat()),
            now=filed_at,
        )
        [raised] = _exceptions(db, "time_mismatch")
        raised_at = raised.raised_at if raised.raised_at.tzinfo else raised.raised_at.replace(tzinfo=UTC)
        assert raised_at == filed_at

    def test_a_use_the_handle_does_not_log_is_not_compared(self, db: Session) -> None:
        make_taser_holder(db, collar="7225")
        device = _second(clock.now() - timedelta(hours=2))
        _import(db, fired("TS-7225", device))
        deployment = _report(
            db,
            "7225",
            device + timedelta(minutes=30),
            levels=["drawn", "red_dot"],
            cartridges_discharged=0,
            cartridge_bays=[],
        )
        assert reconcile.reconcile_report(db, deployment) is None

    def test_a_device_event_hours_away_is_another_use(self, db: Session) -> None:
        make_taser_holder(db, collar="7226")
        reported = _second(clock.now() - timedelta(hours=1))
        deployment = _report(db, "7226", reported)
        _import(db, fired("TS-7226", reported - timedelta(hours=5)))
        assert reconcile.reconcile_report(db, deployment) is None
        assert _exceptions(db, "time_mismatch") == []


class TestJob:
    def test_the_sweep_is_a_scheduled_job_that_judges_what_came_due(
        self, settings: Settings, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        schedule = DOMAIN.job_registry(JobContext(settings)).schedules[RECONCILE_DEVICE_LOGS]
        assert schedule.cron == "*/15 * * * *"
        pulled = _second(clock.now() - timedelta(hours=1))
        with transaction(factory) as db:
            make_taser_holder(db, collar="7231")
            _import(db, fired("TS-7231", pulled))
        clock.advance(timedelta(hours=24))
        schedule.handler(factory)
        with transaction(factory) as db:
            assert len(_exceptions(db, "unreported_trigger")) == 1
            assert _entry(db, "TS-7231", pulled).verdict == "unreported"
