"""Taser tables: deployment reports in the Home Office use-of-force categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base

SERIAL_LENGTH = 60
INCIDENT_LENGTH = 40
CODE_LENGTH = 30
GENDER_LENGTH = 40
FILED_BY_LENGTH = 150
STATUSES = ("submitted",)


class Deployment(Base):
    """One use of a Taser as its officer reported it: every level used in order, the highest, the
    cartridges discharged, where and when, and what the Home Office annual return asks of the subject."""

    __tablename__ = "taser_deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    taser_serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    occurred_at: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_type: Mapped[str] = mapped_column(String(CODE_LENGTH))
    incident_number: Mapped[str] = mapped_column(String(INCIDENT_LENGTH))
    levels: Mapped[list[str]] = mapped_column(JSON)
    highest_level: Mapped[str] = mapped_column(String(CODE_LENGTH))
    cartridges_discharged: Mapped[int] = mapped_column(Integer)
    cartridge_bays: Mapped[list[int]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    impact_factors: Mapped[list[str]] = mapped_column(JSON)
    subject_age_band: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    subject_gender: Mapped[str | None] = mapped_column(String(GENDER_LENGTH))
    subject_ethnicity: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    subject_self_defined_ethnicity: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    subject_injured: Mapped[bool]
    subject_medical_attention: Mapped[bool]
    officer_injured: Mapped[bool]
    officer_medical_attention: Mapped[bool]
    officer_assaulted: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(CODE_LENGTH))
    status: Mapped[str] = mapped_column(String(CODE_LENGTH))
    filed_by: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("status IN ('submitted')", name="status"),
        CheckConstraint("cartridges_discharged >= 0", name="cartridges_discharged"),
        Index("ix_taser_deployment_officer_occurred", "officer_id", "occurred_at"),
        Index("ix_taser_deployment_occurred", "occurred_at"),
        Index("ix_taser_deployment_highest_level", "highest_level", "occurred_at"),
    )
