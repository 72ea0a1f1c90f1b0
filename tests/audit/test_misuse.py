"""Misuse rules over synthetic event streams, with a fixed clock and fake providers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import log, misuse
from openbwv.audit.misuse import FailedSignIns, OutsideDutyHours, OwnOrColleagueFootage
from openbwv.audit.models import AuditEvent, AuditLeaf
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.people.colleagues import footage_relation
from openbwv.policy import Role
from tests.builders import headers_for, make_officer, make_unit, make_user

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock_at_now(clock: FixedClock) -> None:
    """Events the app records itself, and the alerts, are stamped at ``NOW`` like the synthetic ones."""
    clock.set(NOW)


def add_events(
    factory: sessionmaker[Session],
    count: int,
    *,
    action: str,
    minutes_ago: float = 1,
    spacing: float = 0,
    username: str = "asmith",
    user_id: int | None = 7,
    details: dict[str, object] | None = None,
    target_id: str | None = None,
    client_address: str | None = None,
) -> list[int]:
    """Synthetic events ``spacing`` minutes apart, the last ``minutes_ago`` before ``NOW``."""
    with transaction(factory) as db:
        events = [
            AuditEvent(
                occurred_at=NOW - timedelta(minutes=minutes_ago + spacing * (count - 1 - n)),
                actor_username=username,
                actor_user_id=user_id,
                action=action,
                details=dict(details or {}),
                target_type="user" if target_id else None,
                target_id=target_id,
                client_address=client_address,
            )
            for n in range(count)
        ]
        db.add_all(events)
        db.flush()
        return [event.id for event in events]


def failed_logins(
    factory: sessionmaker[Session],
    count: int,
    *,
    typed: str = "jbloggs",
    address: str = "10.1.1.1",
    minutes_ago: float = 1,
    spacing: float = 0.5,
) -> list[int]:
    return add_events(
        factory,
        count,
        action="auth:login:failed",
        username=typed,
        user_id=None,
        target_id=typed,
        client_address=address,
        minutes_ago=minutes_ago,
        spacing=spacing,
    )


def views(
    factory: sessionmaker[Session],
    count: int,
    *,
    subject: int,
    username: str = "asmith",
    minutes_ago: float = 60,
) -> list[int]:
    return add_events(
        factory,
        count,
        action="footage:clip:viewed",
        username=username,
        details={"subject_officer_id": subject},
        minutes_ago=minutes_ago,
        spacing=30,
    )


def alerts(factory: sessionmaker[Session]) -> list[misuse.Alert]:
    with factory() as db:
        found, _ = misuse.list_alerts(db, limit=100, offset=0)
    return found


class TestFailedSignIns:
    def test_a_burst_for_one_username_raises_one_alert_citing_it(
        self, factory: sessionmaker[Session]
    ) -> None:
        ids = failed_logins(factory, 10)
        raised = misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()])
        assert len(raised) == 1
        (alert,) = alerts(factory)
        assert (alert.rule, alert.subject, alert.event_ids) == (
            "failed_sign_ins_by_username",
            "user:jbloggs",
            ids,
        )
        assert alert.summary == "10 failed sign-ins for user jbloggs within 15 minutes"
        with factory() as db:
            event = db.get(AuditEvent, alert.event_id)
            assert event is not None
            assert (event.action, event.actor_username, event.target_type, event.target_id) == (
                "audit:alert:raised",
                "system",
                "user",
                "jbloggs",
            )

    def test_running_again_raises_nothing_until_a_new_burst(self, factory: sessionmaker[Session]) -> None:
        failed_logins(factory, 10, minutes_ago=6)
        misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()])
        assert misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()]) == []
        later = failed_logins(factory, 10, minutes_ago=0.5, spacing=0.1)
        assert len(misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()])) == 1
        assert alerts(factory)[0].event_ids == later

    @pytest.mark.parametrize(("count", "spacing"), [(9, 0.5), (10, 2)])
    def test_fewer_or_slower_failures_raise_nothing(
        self, factory: sessionmaker[Session], count: int, spacing: float
    ) -> None:
        failed_logins(factory, count, spacing=spacing)
        assert misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()]) == []

    def test_many_usernames_from_one_address(self, factory: sessionmaker[Session]) -> None:
        for n in range(20):
            failed_logins(factory, 1, typed=f"guess{n}", address="203.0.113.9")
        rules = misuse.default_rules()
        raised = misuse.run_misuse_rules(factory, now=NOW, rules=rules)
        assert [a.subject for a in alerts(factory)] == ["address:203.0.113.9"]
        assert len(raised) == 1


class TestOwnOrColleagueFootage:
    @staticmethod
    def relation(db: Session, username: str, subject: int) -> str | None:
        return {("asmith", 7): "self", ("asmith", 8): "colleague"}.get((username, subject))

    def test_viewing_self_and_colleague_repeatedly_raises(self, factory: sessionmaker[Session]) -> None:
        ids = views(factory, 2, subject=7) + views(factory, 1, subject=8, minutes_ago=10)
        views(factory, 5, subject=99)
        rule = OwnOrColleagueFootage(relation=self.relation)
        misuse.run_misuse_rules(factory, now=NOW, rules=[rule])
        (alert,) = alerts(factory)
        assert alert.subject == "user:asmith" and sorted(alert.event_ids) == sorted(ids)
        assert (
            alert.summary
            == "asmith viewed footage of themselves or a close colleague 3 times within 24 hours"
        )

    def test_below_the_threshold_or_outside_the_day_raises_nothing(
        self, factory: sessionmaker[Session]
    ) -> None:
        views(factory, 2, subject=7)
        views(factory, 3, subject=7, minutes_ago=25 * 60)
        add_events(factory, 3, action="footage:clip:viewed", details={})
        rule = OwnOrColleagueFootage(relation=self.relation)
        assert misuse.run_misuse_rules(factory, now=NOW, rules=[rule]) == []

    def test_the_people_directory_knows_self_and_unit_colleagues(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            response, traffic = make_unit(db, code="R1"), make_unit(db, code="T1", name="Traffic")
            me, mate = make_officer(db, unit=response), make_officer(db, unit=response)
            stranger = make_officer(db, unit=traffic)
            make_user(db, username="pc.me", officer=me)
            make_user(db, username="staff")
        with factory() as db:
            assert footage_relation(db, "pc.me", me.id) == "self"
            assert footage_relation(db, "pc.me", mate.id) == "colleague"
            assert footage_relation(db, "pc.me", stranger.id) is None
            assert footage_relation(db, "staff", me.id) is None
            assert footage_relation(db, "nobody", me.id) is None


class TestOutsideDutyHours:
    @staticmethod
    def roster(db: Session, username: str, day: date) -> Sequence[tuple[datetime, datetime]] | None:
        if username != "asmith":
            return None
        start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        return [(start, start + timedelta(hours=8))]

    def test_access_outside_a_known_shift_raises(self, factory: sessionmaker[Session]) -> None:
        night = add_events(factory, 2, action="footage:clip:viewed", minutes_ago=15 * 60, spacing=5)
        add_events(factory, 1, action="footage:clip:viewed", minutes_ago=60)
        add_events(factory, 1, action="live:stream:viewed", username="unrostered", minutes_ago=15 * 60)
        add_events(factory, 1, action="people:officer:updated", minutes_ago=15 * 60)
        rule = OutsideDutyHours(duty_hours_for=self.roster)
        misuse.run_misuse_rules(factory, now=NOW, rules=[rule])
        (alert,) = alerts(factory)
        assert alert.event_ids == night and alert.rule == "outside_duty_hours"
        assert misuse.run_misuse_rules(factory, now=NOW, rules=[rule]) == []


class TestAlertsAreLogged:
    def test_an_alert_becomes_a_leaf(self, factory: sessionmaker[Session]) -> None:
        failed_logins(factory, 10)
        (alert,) = misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()])
        log.sequence(factory)
        with factory() as db:
            assert db.scalar(select(AuditLeaf.leaf_index).where(AuditLeaf.event_id == alert.id)) is not None


class TestAlertsApi:
    def test_professional_standards_reads_alerts(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        failed_logins(factory, 10)
        misuse.run_misuse_rules(factory, now=NOW, rules=[FailedSignIns()])
        response = client.get(
            "/api/v1/audit/alerts", headers=headers_for(factory, Role.PROFESSIONAL_STANDARDS)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 1
        assert body["items"][0]["subject"] == "user:jbloggs" and len(body["items"][0]["event_ids"]) == 10

    @pytest.mark.parametrize(("role", "status"), [(None, 401), (Role.AUDITOR, 403), (Role.OFFICER, 403)])
    def test_others_are_refused(
        self, client: TestClient, factory: sessionmaker[Session], role: Role | None, status: int
    ) -> None:
        headers = headers_for(factory, role) if role else {}
        assert client.get("/api/v1/audit/alerts", headers=headers).status_code == status
