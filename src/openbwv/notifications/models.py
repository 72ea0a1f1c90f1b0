"""A notification is one fact told to one recipient: a user, an officer, or the supervisors of a unit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbwv import clock
from openbwv.db import Base

RECIPIENTS = ("user", "officer", "supervisor")


class Notification(Base):
    """One fact for one recipient. ``key`` names the fact and its recipient: the same key never
    notifies twice. ``unit_id`` is the unit the fact concerns (for ``supervisor``, the unit whose
    supervisors receive it); ``concerns_on`` the day it is about (an expiry, a rule taking effect)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    concerns_on: Mapped[date | None]
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        CheckConstraint(
            "(recipient = 'user' AND user_id IS NOT NULL)"
            " OR (recipient = 'officer' AND officer_id IS NOT NULL)"
            " OR (recipient = 'supervisor' AND unit_id IS NOT NULL)",
            name="recipient",
        ),
        Index("ix_notification_user", "user_id", "created_at"),
        Index("ix_notification_officer", "officer_id", "created_at"),
        Index("ix_notification_unit", "unit_id", "created_at"),
    )


class NotificationRead(Base):
    """A user has read a notification; a unit's notice is read or unread for each supervisor."""

    __tablename__ = "notification_read"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=clock.now)
