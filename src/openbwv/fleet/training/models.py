"""Courses, passes, the eligibility policy and the Taser volunteers register."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbwv import clock
from openbwv.db import Base

AUTHORITIES = ("bwv", "taser")


class Course(Base):
    """A course; passing it grants ``authority`` for ``validity_months`` (None: no expiry)."""

    __tablename__ = "training_course"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    authority: Mapped[str | None] = mapped_column(String(20))
    validity_months: Mapped[int | None]


class TrainingPass(Base):
    """An officer passed a course on a day; ``expires_on`` is fixed when recorded."""

    __tablename__ = "training_pass"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    course_code: Mapped[str] = mapped_column(ForeignKey("training_course.code"))
    authority: Mapped[str | None] = mapped_column(String(20))
    passed_on: Mapped[date]
    expires_on: Mapped[date | None]
    trainer: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(150))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        Index("ix_training_pass_officer", "officer_id", "authority"),
        Index("ix_training_pass_authority_expires", "authority", "expires_on"),
    )


class EligibilityRule(Base):
    """The STRA policy as data: whether a rank and/or unit may hold an authority, from a date until
    the day it ends (``ends_on``, when it is withdrawn or superseded). A withdrawn rule is kept, with
    who withdrew it, when and why, and the rule that superseded it if one did."""

    __tablename__ = "eligibility_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority: Mapped[str] = mapped_column(String(20))
    rank_code: Mapped[str | None] = mapped_column(ForeignKey("rank.code"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    eligible: Mapped[bool]
    effective_from: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The first day the rule no longer applies; None while it stands.
    ends_on: Mapped[date | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(150))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("eligibility_rule.id"))


class TaserVolunteer(Base):
    """An officer who volunteers to carry Taser; carrying is voluntary."""

    __tablename__ = "taser_volunteer"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    volunteered_on: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(150))
