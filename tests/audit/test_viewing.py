"""Misuse rules over live views and footage plays, over synthetic event streams shaped like those the
access grants and footage playback write, with a fixed clock."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access
from openbwv.audit import misuse
from openbwv.audit.misuse import OutsideDutyHours
from openbwv.audit.models import AuditEvent
from openbwv.audit.viewing import LiveViewBrowsing, LongLiveViewWithoutIncident, OfficerWatchedRepeatedly
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.policy import Actor, Role
from tests.builders import headers_for, make_user

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GRANTS = itertools.count(1)


@pytest.fixture(autouse=True)
def _clock_at_now(clock: FixedClock) -> None:
    clock.set(NOW)


def _event(at: datetime, action: str, viewer: str, details: dict[str, object], target: str) -> AuditEvent:
    return AuditEvent(
        occurred_at=at,
        actor_username=viewer,
        actor_user_id=7,
        action=action,
        details=details,
        target_type="camera",
        target_id=target,
    )


def live_view(
    factory: sessionmaker[Session],
    *,
    ago: timedelta,
    lasted: timedelta | None = None,
    renewals: Sequence[timedelta] = (),
    serial: str = "BWV-0001",
    viewer: str = "asmith",
    incident: str | None = None,
    subject: int | None = 42,
    length: timedelta = timedelta(minutes=10),
) -> list[int]:
    """A live view started ``ago`` before ``NOW``, renewed ``renewals`` after its start (each for
    ``length``), ended ``lasted`` after its start if given; the ids of its events."""
    start, grant = NOW - ago, next(GRANTS)
    common = {
        "grant": grant,
        "holder": viewer,
        "kind": "live_view",
        "incident_number": incident,
        "camera_serial": serial,
        "subject_officer_id": subject,
    }
    events = [
        _event(
            start,
            "access:grant:granted",
            viewer,
            {**common, "expires_at": (start + length).isoformat()},
            serial,
        )
    ]
    expires = start + length
    for after in renewals:
        expires = start + after + length
        events.append(
            _event(
                start + after,
                "access:grant:renewed",
                viewer,
                {**common, "expires_at": expires.isoformat()},
                serial,
            )
        )
    if lasted is not None:
        events.append(
            _event(
                start + lasted,
                "access:grant:ended",
                viewer,
                {**common, "expires_at": expires.isoformat()},
                serial,
            )
        )
    with transaction(factory) as db:
        db.add_all(events)
        db.flush()
        return [event.id for event in events]


def footage_play(
    factory: sessionmaker[Session],
    *,
    ago: timedelta,
    subject: int = 42,
    viewer: str = "asmith",
    action: str = "footage:clip:viewed",
) -> int:
    with transaction(factory) as db:
        event = AuditEvent(
            occurred_at=NOW - ago,
            actor_username=viewer,
            actor_user_id=7,
            action=action,
            details={"clip_id": 1, "subject_officer_id": subject},
            target_type="clip",
            target_id="1",
        )
        db.add(event)
        db.flush()
        return event.id


def alerts(factory: sessionmaker[Session]) -> list[misuse.Alert]:
    with factory() as db:
        found, _ = misuse.list_alerts(db, limit=100, offset=0)
    return found


def run(factory: sessionmaker[Session], rule: misuse.Rule) -> list[AuditEvent]:
    return misuse.run_misuse_rules(factory, now=NOW, rules=[rule])


MINUTE = timedelta(minutes=1)


class TestLongLiveViewWithoutIncident:
    def test_a_renewed_view_past_the_threshold_raises_citing_all_its_events(
        self, factory: sessionmaker[Session]
    ) -> None:
        ids = live_view(factory, ago=30 * MINUTE, renewals=[8 * MINUTE, 16 * MINUTE, 24 * MINUTE])
        assert len(run(factory, LongLiveViewWithoutIncident())) == 1
        (alert,) = alerts(factory)
        assert (alert.rule, alert.subject, alert.event_ids, alert.state) == (
            "long_live_view_without_incident",
            "user:asmith",
            ids,
            "open",
        )
        assert (
            alert.summary == "asmith watched camera BWV-0001 live for 30 minutes without an incident number"
        )

    @pytest.mark.parametrize(("minutes", "raised"), [(20, 0), (21, 1)])
    def test_the_threshold_is_exclusive(
        self, factory: sessionmaker[Session], minutes: int, raised: int
    ) -> None:
        live_view(factory, ago=40 * MINUTE, lasted=minutes * MINUTE, renewals=[9 * MINUTE, 18 * MINUTE])
        assert len(run(factory, LongLiveViewWithoutIncident())) == raised

    def test_a_view_with_an_incident_number_or_one_that_expired_early_raises_nothing(
        self, factory: sessionmaker[Session]
    ) -> None:
        live_view(
            factory, ago=60 * MINUTE, lasted=50 * MINUTE, renewals=[9 * MINUTE], incident="20261126-0042"
        )
        live_view(factory, ago=60 * MINUTE, serial="BWV-0002")  # expired after its 10 minutes
        assert run(factory, LongLiveViewWithoutIncident()) == []

    def test_running_again_raises_once_even_as_the_view_goes_on(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        live_view(factory, ago=25 * MINUTE, renewals=[8 * MINUTE, 16 * MINUTE, 24 * MINUTE])
        assert len(run(factory, LongLiveViewWithoutIncident())) == 1
        assert run(factory, LongLiveViewWithoutIncident()) == []
        assert (
            misuse.run_misuse_rules(factory, now=NOW + 5 * MINUTE, rules=[LongLiveViewWithoutIncident()])
            == []
        )

    def test_a_grant_as_live_view_writes_it_is_judged(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        """The live view's grant events carry the kind, the camera and the incident number given."""
        with transaction(factory) as db:
            user = make_user(db, username="cr.jones", roles=[Role.CONTROL_ROOM])
            admin = Actor(username="admin", roles=frozenset({Role.ADMIN}), user_id=user.id)
            access.create_reason(db, admin, code="pursuit-test", label="Pursuit", permits=["live_view"])
            viewer = Actor(username="cr.jones", roles=frozenset({Role.CONTROL_ROOM}), user_id=user.id)
            for serial, incident in (("BWV-0001", None), ("BWV-0002", "20261126-0042")):
                access.grant_access(
                    db,
                    viewer,
                    record=access.AccessRecord("camera", serial),
                    kind="live_view",
                    reason_code="pursuit-test",
                    incident_number=incident,
                    note="pursuit on the ring road",
                    details={"camera_serial": serial, "subject_officer_id": 42},
                )
        later = NOW + 21 * MINUTE
        clock.set(later)
        misuse.run_misuse_rules(factory, now=later, rules=[LongLiveViewWithoutIncident()])
        (alert,) = alerts(factory)
        assert (
            alert.summary == "cr.jones watched camera BWV-0001 live for 21 minutes without an incident number"
        )


class TestOfficerWatchedRepeatedly:
    def test_the_same_officer_on_three_days_raises(self, factory: sessionmaker[Session]) -> None:
        first = live_view(factory, ago=timedelta(days=13), lasted=MINUTE)[0]
        plays = [
            footage_play(factory, ago=timedelta(days=5)),
            footage_play(factory, ago=timedelta(days=5, hours=1), action="footage:clip:exported"),
        ]
        last = live_view(factory, ago=timedelta(hours=2), lasted=MINUTE)[0]
        assert len(run(factory, OfficerWatchedRepeatedly())) == 1
        (alert,) = alerts(factory)
        assert alert.event_ids == [first, *plays, last]
        assert alert.summary == "asmith watched officer 42 on 3 days within 14 days"

    def test_two_days_or_a_third_outside_the_window_or_other_officers_raise_nothing(
        self, factory: sessionmaker[Session]
    ) -> None:
        footage_play(factory, ago=timedelta(days=15))
        footage_play(factory, ago=timedelta(days=5))
        footage_play(factory, ago=timedelta(days=5, hours=3))
        live_view(factory, ago=timedelta(hours=2), lasted=MINUTE)
        footage_play(factory, ago=timedelta(days=3), subject=43)
        footage_play(factory, ago=timedelta(days=1), viewer="bjones")
        assert run(factory, OfficerWatchedRepeatedly()) == []

    def test_running_again_raises_once(self, factory: sessionmaker[Session]) -> None:
        for days in (1, 2, 3):
            footage_play(factory, ago=timedelta(days=days))
        assert len(run(factory, OfficerWatchedRepeatedly())) == 1
        footage_play(factory, ago=MINUTE)
        assert run(factory, OfficerWatchedRepeatedly()) == []


class TestLiveViewBrowsing:
    @staticmethod
    def browse(
        factory: sessionmaker[Session], *, cameras: int = 5, views: int = 5, seconds: int = 30
    ) -> list[int]:
        ids = []
        for n in range(views):
            serial = f"BWV-{n % cameras:04d}"
            ids += live_view(
                factory, ago=(25 - 4 * n) * MINUTE, lasted=timedelta(seconds=seconds), serial=serial
            )
        return ids

    def test_five_short_views_of_five_cameras_raise(self, factory: sessionmaker[Session]) -> None:
        ids = self.browse(factory, seconds=59)
        assert len(run(factory, LiveViewBrowsing())) == 1
        (alert,) = alerts(factory)
        assert alert.event_ids == ids
        assert (
            alert.summary
            == "asmith opened 5 live views of under 60 seconds across 5 cameras within 30 minutes"
        )

    @pytest.mark.parametrize(
        ("cameras", "views", "seconds"),
        [(4, 5, 30), (5, 4, 30), (5, 5, 60)],
        ids=["cameras", "views", "seconds"],
    )
    def test_one_short_of_any_threshold_raises_nothing(
        self, factory: sessionmaker[Session], cameras: int, views: int, seconds: int
    ) -> None:
        self.browse(factory, cameras=cameras, views=views, seconds=seconds)
        assert run(factory, LiveViewBrowsing()) == []

    def test_views_still_live_or_outside_the_window_do_not_count(
        self, factory: sessionmaker[Session]
    ) -> None:
        self.browse(factory, views=3)
        live_view(factory, ago=MINUTE / 2, serial="BWV-0008")
        live_view(factory, ago=31 * MINUTE, lasted=timedelta(seconds=10), serial="BWV-0009")
        assert run(factory, LiveViewBrowsing()) == []

    def test_running_again_raises_once(self, factory: sessionmaker[Session]) -> None:
        self.browse(factory)
        assert len(run(factory, LiveViewBrowsing())) == 1
        assert run(factory, LiveViewBrowsing()) == []


class TestLiveViewOffDuty:
    @staticmethod
    def roster(db: Session, username: str, day: date) -> Sequence[tuple[datetime, datetime]] | None:
        start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        return [(start, start + timedelta(hours=3))] if username == "asmith" else None

    def test_opening_or_renewing_a_live_view_off_shift_raises(self, factory: sessionmaker[Session]) -> None:
        rule = OutsideDutyHours(duty_hours_for=self.roster)
        live_view(factory, ago=2 * 60 * MINUTE + MINUTE, lasted=MINUTE / 2)  # 09:59, on shift
        live_view(factory, ago=2 * 60 * MINUTE, viewer="unrostered")
        assert run(factory, rule) == []
        off = live_view(factory, ago=30 * MINUTE, renewals=[8 * MINUTE], lasted=12 * MINUTE)
        (alert,) = run(factory, rule)
        assert alert.details["event_ids"] == off[:2]
        assert run(factory, rule) == []


class TestThresholdsChangeWhatRulesRaise:
    def test_a_lower_minimum_through_the_api_raises_a_shorter_view(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        live_view(factory, ago=30 * MINUTE, lasted=15 * MINUTE, renewals=[9 * MINUTE])
        assert run(factory, LongLiveViewWithoutIncident()) == []
        response = client.put(
            "/api/v1/audit/alert-rules/long_live_view_without_incident/minutes",
            json={"value": 14},
            headers=headers_for(factory, Role.PROFESSIONAL_STANDARDS),
        )
        assert response.status_code == 200
        assert len(run(factory, LongLiveViewWithoutIncident())) == 1

    def test_fewer_days_through_the_api_raise_two(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        footage_play(factory, ago=timedelta(days=2))
        footage_play(factory, ago=timedelta(days=1))
        assert run(factory, OfficerWatchedRepeatedly()) == []
        headers = headers_for(factory, Role.PROFESSIONAL_STANDARDS)
        client.put(
            "/api/v1/audit/alert-rules/officer_watched_repeatedly/days", json={"value": 2}, headers=headers
        )
        assert len(run(factory, OfficerWatchedRepeatedly())) == 1
