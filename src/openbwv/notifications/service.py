"""Notifying once per fact, and each caller's own notifications, read and unread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.db import in_values
from openbwv.errors import NotFound
from openbwv.notifications.models import RECIPIENTS, Notification, NotificationRead
from openbwv.policy import Actor, Permission, can

# The unit an officer serves in: supplied by the people domain (the platform imports no domain).
UnitOfOfficer = Callable[[Session, int], int | None]

_BATCH = 5000


@dataclass(frozen=True)
class Notice:
    """A fact to tell one recipient; ``key`` must name both, so that it is told only once."""

    key: str
    kind: str
    recipient: str
    message: str
    user_id: int | None = None
    officer_id: int | None = None
    unit_id: int | None = None
    concerns_on: date | None = None
    link: str | None = None


@dataclass(frozen=True)
class Mailbox:
    """Whom a caller reads for: themselves as a user, their officer record, the units they supervise."""

    user_id: int
    officer_id: int | None = None
    unit_ids: tuple[int, ...] = ()


def notify(db: Session, notices: Sequence[Notice]) -> int:
    """Store the notices whose key is not yet stored; the number added. A key stored meanwhile by a
    concurrent caller is skipped by the database, never stored twice."""
    for notice in notices:
        if notice.recipient not in RECIPIENTS:
            raise ValueError(f"unknown recipient {notice.recipient!r}")
    wanted = {n.key: n for n in notices}
    keys = list(wanted)
    existing: set[str] = set()
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        existing.update(db.scalars(select(Notification.key).where(in_values(db, Notification.key, chunk))))
    now = clock.now()
    fresh = [
        {
            "key": n.key,
            "created_at": now,
            "kind": n.kind,
            "recipient": n.recipient,
            "user_id": n.user_id,
            "officer_id": n.officer_id,
            "unit_id": n.unit_id,
            "concerns_on": n.concerns_on,
            "message": n.message,
            "link": n.link,
        }
        for key, n in wanted.items()
        if key not in existing
    ]
    for start in range(0, len(fresh), _BATCH):
        db.execute(_insert_if_absent(db, Notification, ["key"]), fresh[start : start + _BATCH])
    return len(fresh)


def mailbox_for(db: Session, actor: Actor, *, unit_of: UnitOfOfficer | None) -> Mailbox | None:
    """The caller's mailbox; None for a caller that is no user (a job). Supervisors read for the
    unit their officer record serves in."""
    if actor.user_id is None:
        return None
    units: tuple[int, ...] = ()
    if (
        actor.officer_id is not None
        and unit_of is not None
        and can(actor, Permission.NOTIFICATIONS_UNIT_READ)
    ):
        unit_id = unit_of(db, actor.officer_id)
        units = () if unit_id is None else (unit_id,)
    return Mailbox(user_id=actor.user_id, officer_id=actor.officer_id, unit_ids=units)


def _addressed_to(mailbox: Mailbox) -> ColumnElement[bool]:
    clauses = [and_(Notification.recipient == "user", Notification.user_id == mailbox.user_id)]
    if mailbox.officer_id is not None:
        clauses.append(
            and_(Notification.recipient == "officer", Notification.officer_id == mailbox.officer_id)
        )
    if mailbox.unit_ids:
        clauses.append(
            and_(Notification.recipient == "supervisor", Notification.unit_id.in_(mailbox.unit_ids))
        )
    return or_(false(), *clauses)


@dataclass(frozen=True)
class MailboxEntry:
    notification: Notification
    read: bool


def list_notifications(db: Session, mailbox: Mailbox, *, limit: int = 200) -> list[MailboxEntry]:
    """The mailbox's notifications, newest first, each with whether this user has read it."""
    rows = db.execute(
        select(Notification, NotificationRead.read_at)
        .outerjoin(
            NotificationRead,
            and_(
                NotificationRead.notification_id == Notification.id,
                NotificationRead.user_id == mailbox.user_id,
            ),
        )
        .where(_addressed_to(mailbox))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    return [MailboxEntry(notification=n, read=read_at is not None) for n, read_at in rows]


def unread_count(db: Session, mailbox: Mailbox) -> int:
    """How many of the mailbox's notifications this user has not read."""
    read = select(NotificationRead.notification_id).where(
        NotificationRead.notification_id == Notification.id, NotificationRead.user_id == mailbox.user_id
    )
    count = db.scalar(
        select(func.count()).select_from(Notification).where(_addressed_to(mailbox), ~read.exists())
    )
    return int(count or 0)


def mark_read(db: Session, mailbox: Mailbox, *, notification_id: int | None = None) -> int:
    """Mark one of the mailbox's notifications read, or all of them (``notification_id`` None); the
    number newly marked. Another's notification is not found."""
    query = select(Notification.id).where(_addressed_to(mailbox))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    ids = list(db.scalars(query))
    if notification_id is not None and not ids:
        raise NotFound("notification")
    already = (
        set(
            db.scalars(
                select(NotificationRead.notification_id).where(
                    NotificationRead.user_id == mailbox.user_id, NotificationRead.notification_id.in_(ids)
                )
            )
        )
        if ids
        else set()
    )
    now = clock.now()
    rows = [
        {"notification_id": i, "user_id": mailbox.user_id, "read_at": now} for i in ids if i not in already
    ]
    if rows:
        db.execute(_insert_if_absent(db, NotificationRead, ["notification_id", "user_id"]), rows)
    return len(rows)


def officer_notifications(db: Session, officer_id: int, *, limit: int = 500) -> list[Notification]:
    """Notifications addressed to an officer, newest first: shown on their kit page."""
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.recipient == "officer", Notification.officer_id == officer_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def _insert_if_absent(db: Session, model: type[Any], conflict_columns: list[str]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on the session's database: a row a concurrent writer
    stored first is skipped rather than failing the whole write."""
    dialect = db.connection().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    return insert(model)
