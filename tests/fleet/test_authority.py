from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import all_jobs
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import find_authority_exceptions, issues, run_daily_authority_check, training
from openbwv.fleet.jobs import DAILY_AUTHORITY_CHECK, daily_authority_check
from openbwv.notifications import Notification
from openbwv.policy import SYSTEM
from tests.builders import (
    NOT_FUNDED_FROM,
    make_device,
    make_ineligible_taser_holder,
    make_officer,
    make_pass,
)

TODAY = date(2026, 11, 26)
# The lapse notices as the platform's notifications hold them, the day they concern as ``expires_on``.
_LAPSE_NOTICES = select(
    Notification.recipient,
    Notification.kind,
    Notification.concerns_on.label("expires_on"),
    Notification.unit_id,
    Notification.message,
).order_by(Notification.recipient)
ISSUED_AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock_on_today(clock: FixedClock) -> None:
    clock.set(datetime.combine(TODAY, time(8, 0), tzinfo=UTC))


class TestFindAuthorityExceptions:
    def test_lists_the_officer_whose_taser_is_still_out_after_lapse(self, db: Session) -> None:
        officer = make_officer(db, collar="7001", name="Kiran Singh")
        make_pass(db, officer, "taser_initial", date(2025, 10, 1))
        training.add_volunteer(db, SYSTEM, collar_number="7001", volunteered_on=date(2025, 9, 1))
        taser = make_device(db, kind="taser", serial="TX1")
        issues.issue_device(
            db, SYSTEM, device_serial="TX1", collar_number="7001", kind="personal", now=ISSUED_AT
        )
        found = find_authority_exceptions(db, today=TODAY)
        assert [(x.collar_number, x.expires_on, x.tasers_held) for x in found.lapsed_with_taser] == [
            ("7001", date(2026, 10, 1), [taser.serial])
        ]

    def test_a_lapsed_officer_who_returned_their_taser_is_not_an_exception(self, db: Session) -> None:
        officer = make_officer(db, collar="7002")
        make_pass(db, officer, "taser_initial", date(2025, 10, 1))
        assert find_authority_exceptions(db, today=TODAY).lapsed_with_taser == []

    def test_lists_authorities_lapsing_within_30_days(self, db: Session) -> None:
        soon, later = make_officer(db, collar="7003"), make_officer(db, collar="7004")
        make_pass(db, soon, "taser_refresher", date(2025, 12, 20))
        make_pass(db, later, "taser_refresher", date(2026, 1, 30))
        found = find_authority_exceptions(db, today=TODAY)
        assert [(x.collar_number, x.expires_on) for x in found.lapsing] == [("7003", date(2026, 12, 20))]


class TestRunDailyAuthorityCheck:
    def test_notifies_officer_and_supervisor_once(self, db: Session) -> None:
        officer = make_officer(db, collar="7005")
        make_pass(db, officer, "taser_refresher", date(2025, 12, 1))
        first = run_daily_authority_check(db, SYSTEM, today=TODAY)
        second = run_daily_authority_check(db, SYSTEM, today=TODAY)
        assert (first.notifications_added, second.notifications_added) == (2, 0)
        rows = db.execute(_LAPSE_NOTICES).all()
        assert [(n.recipient, n.unit_id) for n in rows] == [
            ("officer", officer.unit_id),
            ("supervisor", officer.unit_id),
        ]
        assert "lapses on 2026-12-01" in rows[0].message


class TestDailyJob:
    def test_the_worker_runs_the_check_and_a_second_run_notifies_nobody_twice(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="5150")
            make_pass(db, officer, "taser_initial", clock.now().date() - timedelta(days=350))
        counts = []
        for _ in range(2):
            daily_authority_check(factory)
            with factory() as db:
                counts.append(db.scalar(select(func.count()).select_from(Notification)))
        with factory() as db:
            found = find_authority_exceptions(db, today=clock.now().date())
        assert [line.collar_number for line in found.lapsing] == ["5150"]
        assert counts == [2, 2], "one notice for the officer and one for their unit's supervisors, once"

    def test_the_app_registers_it_as_a_nightly_schedule(self, settings: Settings) -> None:
        schedule = all_jobs(settings).schedules[DAILY_AUTHORITY_CHECK]
        assert schedule.cron == "5 2 * * *"


class TestIneligibleWithTaser:
    def test_a_sergeant_holding_a_taser_after_the_rule_takes_effect_is_listed(self, db: Session) -> None:
        make_ineligible_taser_holder(db, collar="7101")
        found = find_authority_exceptions(db, today=TODAY)
        assert [
            (x.collar_number, x.rank, x.reason, x.effective_from, x.tasers_held)
            for x in found.ineligible_with_taser
        ] == [("7101", "Sergeant", "Sergeants not funded for the refresher", NOT_FUNDED_FROM, ["TS-7101"])]
        assert found.lapsed_with_taser == []

    def test_not_before_the_effective_date(self, db: Session) -> None:
        make_ineligible_taser_holder(db, collar="7101")
        assert (
            find_authority_exceptions(db, today=NOT_FUNDED_FROM - timedelta(days=1)).ineligible_with_taser
            == []
        )

    def test_not_after_the_taser_is_returned(self, db: Session) -> None:
        make_ineligible_taser_holder(db, collar="7101")
        issues.return_device(db, SYSTEM, device_serial="TS-7101", now=datetime(2026, 11, 20, tzinfo=UTC))
        assert find_authority_exceptions(db, today=TODAY).ineligible_with_taser == []

    def test_a_constable_is_not_caught_by_a_sergeants_rule(self, db: Session) -> None:
        make_ineligible_taser_holder(db, collar="7102", rank="constable")
        assert find_authority_exceptions(db, today=TODAY).ineligible_with_taser == []

    def test_officer_and_supervisors_are_notified_once(self, db: Session) -> None:
        officer = make_ineligible_taser_holder(db, collar="7101")
        first = run_daily_authority_check(db, SYSTEM, today=TODAY)
        second = run_daily_authority_check(db, SYSTEM, today=TODAY + timedelta(days=1))
        assert (first.notifications_added, second.notifications_added) == (2, 0)
        assert len(second.ineligible_with_taser) == 1
        rows = db.execute(_LAPSE_NOTICES).all()
        assert [(n.recipient, n.kind, n.expires_on, n.unit_id) for n in rows] == [
            ("officer", "authority_ineligible", NOT_FUNDED_FROM, officer.unit_id),
            ("supervisor", "authority_ineligible", NOT_FUNDED_FROM, officer.unit_id),
        ]
        assert "Sergeants not funded for the refresher" in rows[0].message
        assert "Taser TS-7101 must be returned" in rows[0].message
