from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, notifications
from openbwv.db import transaction, violated_unique
from openbwv.errors import NotFound
from openbwv.fleet import run_daily_authority_check
from openbwv.migrate import alembic_config, upgrade
from openbwv.notifications import Mailbox, Notice, Notification
from openbwv.people import colleagues
from openbwv.policy import SYSTEM, Actor, Role
from tests.builders import make_officer, make_pass, make_unit, make_user


def _for_officer(officer_id: int, unit_id: int, key: str = "fact-1") -> list[Notice]:
    return [
        Notice(
            key=f"{key}:officer",
            kind="test",
            recipient="officer",
            officer_id=officer_id,
            unit_id=unit_id,
            message=f"{key} for the officer",
        ),
        Notice(
            key=f"{key}:supervisor",
            kind="test",
            recipient="supervisor",
            officer_id=officer_id,
            unit_id=unit_id,
            message=f"{key} for the supervisors",
        ),
    ]


def _mailbox(db: Session, user_id: int, roles: list[Role], officer_id: int | None) -> Mailbox:
    actor = Actor(username="u", roles=frozenset(roles), user_id=user_id, officer_id=officer_id)
    mailbox = notifications.mailbox_for(db, actor, unit_of=colleagues.unit_of_officer)
    assert mailbox is not None
    return mailbox


def _messages(db: Session, mailbox: Mailbox) -> list[str]:
    return sorted(e.notification.message for e in notifications.list_notifications(db, mailbox))


class TestNotify:
    def test_the_same_fact_notifies_once(self, db: Session) -> None:
        officer = make_officer(db)
        assert notifications.notify(db, _for_officer(officer.id, officer.unit_id)) == 2
        assert notifications.notify(db, _for_officer(officer.id, officer.unit_id)) == 0
        assert db.scalar(select(func.count()).select_from(Notification)) == 2

    def test_the_database_refuses_a_second_row_for_a_key(self, db: Session) -> None:
        user = make_user(db)
        db.add(Notification(key="k", kind="test", recipient="user", user_id=user.id, message="one"))
        db.flush()
        db.add(Notification(key="k", kind="test", recipient="user", user_id=user.id, message="two"))
        with pytest.raises(IntegrityError) as refused:
            db.flush()
        assert violated_unique(refused.value) == "uq_notification_key"

    def test_a_recipient_needs_its_address(self, db: Session) -> None:
        db.add(Notification(key="k", kind="test", recipient="supervisor", message="to nobody"))
        with pytest.raises(IntegrityError):
            db.flush()


class TestMailbox:
    def test_an_officer_sees_their_own_notices_only(self, db: Session) -> None:
        unit = make_unit(db)
        mine, theirs = make_officer(db, unit=unit), make_officer(db, unit=unit)
        user = make_user(db, officer=mine)
        notifications.notify(
            db, _for_officer(mine.id, unit.id, "mine") + _for_officer(theirs.id, unit.id, "theirs")
        )
        assert _messages(db, _mailbox(db, user.id, [Role.OFFICER], mine.id)) == ["mine for the officer"]

    def test_a_supervisor_sees_their_units_notices(self, db: Session) -> None:
        unit, other = make_unit(db), make_unit(db)
        sergeant, constable, elsewhere = (
            make_officer(db, unit=unit),
            make_officer(db, unit=unit),
            make_officer(db, unit=other),
        )
        user = make_user(db, officer=sergeant, roles=[Role.SUPERVISOR])
        notifications.notify(
            db, _for_officer(constable.id, unit.id, "here") + _for_officer(elsewhere.id, other.id, "there")
        )
        assert _messages(db, _mailbox(db, user.id, [Role.SUPERVISOR], sergeant.id)) == [
            "here for the supervisors"
        ]

    def test_a_user_notice_reaches_that_user_only(self, db: Session) -> None:
        one, two = make_user(db), make_user(db)
        notifications.notify(
            db, [Notice(key="u", kind="test", recipient="user", user_id=one.id, message="hi")]
        )
        assert _messages(db, _mailbox(db, one.id, [Role.OFFICER], None)) == ["hi"]
        assert _messages(db, _mailbox(db, two.id, [Role.OFFICER], None)) == []

    def test_read_state_is_per_user(self, db: Session) -> None:
        unit = make_unit(db)
        first, second, constable = (
            make_officer(db, unit=unit),
            make_officer(db, unit=unit),
            make_officer(db, unit=unit),
        )
        one = _mailbox(
            db, make_user(db, officer=first, roles=[Role.SUPERVISOR]).id, [Role.SUPERVISOR], first.id
        )
        two = _mailbox(
            db, make_user(db, officer=second, roles=[Role.SUPERVISOR]).id, [Role.SUPERVISOR], second.id
        )
        notifications.notify(db, _for_officer(constable.id, unit.id))
        assert (notifications.unread_count(db, one), notifications.unread_count(db, two)) == (1, 1)
        assert notifications.mark_read(db, one) == 1
        assert notifications.mark_read(db, one) == 0
        assert (notifications.unread_count(db, one), notifications.unread_count(db, two)) == (0, 1)

    def test_marking_anothers_notice_is_not_found(self, db: Session) -> None:
        one, two = make_user(db), make_user(db)
        notifications.notify(
            db, [Notice(key="u", kind="test", recipient="user", user_id=one.id, message="hi")]
        )
        notice = db.scalars(select(Notification)).one()
        with pytest.raises(NotFound):
            notifications.mark_read(db, _mailbox(db, two.id, [Role.OFFICER], None), notification_id=notice.id)
        notifications.mark_read(db, _mailbox(db, one.id, [Role.OFFICER], None), notification_id=notice.id)
        assert notifications.unread_count(db, _mailbox(db, one.id, [Role.OFFICER], None)) == 0


class TestMigration:
    def test_the_taser_notices_move_over_and_are_not_told_again(
        self, database_url: str, factory: sessionmaker[Session], engine: Engine
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="7201")
            make_pass(db, officer, "taser_refresher", date(2025, 12, 1))
        # The schema as it stood before the move, holding a notice the daily check stored then.
        command.downgrade(alembic_config(database_url), "0006")
        engine.dispose()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO notification (id, created_at, officer_id, recipient, unit_id, kind, authority,"
                    " expires_on, message) VALUES (7, :at, :officer, 'supervisor', :unit, 'authority_lapsing',"
                    " 'taser', :expires, 'Taser authority of 7201 lapses on 2026-12-01')"
                ),
                {
                    "at": clock.now(),
                    "officer": officer.id,
                    "unit": officer.unit_id,
                    "expires": date(2026, 12, 1),
                },
            )
        upgrade(database_url)
        engine.dispose()
        with transaction(factory) as db:
            moved = db.scalars(select(Notification)).one()
            assert (moved.id, moved.recipient, moved.unit_id, moved.concerns_on, moved.message) == (
                7,
                "supervisor",
                officer.unit_id,
                date(2026, 12, 1),
                "Taser authority of 7201 lapses on 2026-12-01",
            )
            found = run_daily_authority_check(db, SYSTEM, today=clock.today())
        assert found.notifications_added == 1, "the officer's own notice only: the supervisors had theirs"
        with factory() as db:
            assert [n.recipient for n in db.scalars(select(Notification).order_by(Notification.id))] == [
                "supervisor",
                "officer",
            ]
