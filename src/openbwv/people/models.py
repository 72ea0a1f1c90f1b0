from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbwv import clock
from openbwv.db import Base
from openbwv.inputs import column_length


class Rank(Base):
    """A rank or staff grade; seeded from the force's list, ordered by ``seniority``."""

    __tablename__ = "rank"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    seniority: Mapped[int]
    is_warranted: Mapped[bool] = mapped_column(default=True)


class Unit(Base):
    """A unit or department of the force (neighbourhood team, response, custody, TSG...)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="other")
    station: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Officer(Base):
    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    collar_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rank_code: Mapped[str] = mapped_column(ForeignKey("rank.code"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    rank: Mapped[Rank] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (Index("ix_officer_name", "name"),)


OFFICER_NAME_LENGTH = column_length(Officer.name)
