"""Reason codes a force configures, and the grants of access people hold under them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbwv import clock
from openbwv.db import Base, partial_index


class AccessKind(StrEnum):
    """What a grant lets its holder do with a record; footage and live view ask for one of these."""

    FOOTAGE_VIEW = "footage_view"
    FOOTAGE_VIEW_REDACTED = "footage_view_redacted"
    LIVE_VIEW = "live_view"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[AccessKind, str] = {
    AccessKind.FOOTAGE_VIEW: "viewing footage",
    AccessKind.FOOTAGE_VIEW_REDACTED: "viewing redacted footage",
    AccessKind.LIVE_VIEW: "live view",
}

PERMITS = "permits"
FORBIDS = "forbids"


class AccessReason(Base):
    """A reason for access the force recognises. ``code`` never changes once made, so grants and
    audit events keep naming it; a reason the force stops using is deactivated, never deleted."""

    __tablename__ = "access_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    rules: Mapped[list[AccessReasonRule]] = relationship(
        back_populates="reason",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="AccessReasonRule.kind",
    )

    @property
    def permits(self) -> list[AccessKind]:
        return self._kinds(PERMITS)

    @property
    def forbids(self) -> list[AccessKind]:
        return self._kinds(FORBIDS)

    def _kinds(self, effect: str) -> list[AccessKind]:
        # A kind no longer known to the code (its feature removed) is skipped, not an error.
        return sorted(
            AccessKind(r.kind) for r in self.rules if r.effect == effect and r.kind in set(AccessKind)
        )


class AccessReasonRule(Base):
    """One kind of access a reason permits or forbids; the key makes a kind one or the other, never both."""

    __tablename__ = "access_reason_rule"

    reason_id: Mapped[int] = mapped_column(
        ForeignKey("access_reason.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    effect: Mapped[str] = mapped_column(String(10))

    reason: Mapped[AccessReason] = relationship(back_populates="rules")

    __table_args__ = (CheckConstraint(f"effect IN ('{PERMITS}', '{FORBIDS}')", name="effect"),)


class AccessGrant(Base):
    """A person's stated reason for one kind of access to one record, until it expires or is ended.

    ``ended_at`` is set when the holder or an overseer ends it, or (``end_cause`` ``expired``, at its
    ``expires_at``) when a new grant replaces one that ran out; until then an expired grant simply no
    longer counts. At most one grant per person, record and kind is open.
    """

    __tablename__ = "access_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(150))
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    reason_code: Mapped[str] = mapped_column(ForeignKey("access_reason.code"))
    incident_number: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    renewed_count: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(150))
    end_cause: Mapped[str | None] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint("incident_number IS NOT NULL OR note IS NOT NULL", name="stated"),
        CheckConstraint("end_cause IS NULL OR end_cause IN ('ended', 'expired')", name="end_cause"),
        Index(
            "uq_access_grant_open",
            "user_id",
            "record_kind",
            "record_id",
            "kind",
            unique=True,
            **partial_index("ended_at IS NULL"),
        ),
        Index("ix_access_grant_user", "user_id", "granted_at"),
        Index("ix_access_grant_record", "record_kind", "record_id", "granted_at"),
        Index("ix_access_grant_granted_at", "granted_at"),
    )
