"""Taser tables: deployment reports in the Home Office use-of-force categories, and the cameras told
to record when a Taser is armed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base, partial_index

SERIAL_LENGTH = 60
INCIDENT_LENGTH = 40
CODE_LENGTH = 30
GENDER_LENGTH = 40
FILED_BY_LENGTH = 150
COMMENT_LENGTH = 2000
AREA_LENGTH = 80
SOURCE_LENGTH = 200
# A report's state: ``submitted`` (waiting for a supervisor), ``returned`` (sent back with comments,
# for the officer to edit), ``signed_off`` (a supervisor accepted it). An edit of a signed-off report
# makes a new version, submitted again; the old one is kept in ``taser_deployment_version``.
STATUSES = ("submitted", "returned", "signed_off")
# Why a clip is linked to a report: the officer's own camera, a camera whose GPS track (footage) passed
# within the radius, or a camera that telemetry placed within the radius (live).
LINK_REASONS = ("own_camera", "nearby_track", "nearby_telemetry")
# The exceptions professional standards work through: a use with no footage after the grace period;
# from the Taser's own log, a trigger pull no report accounts for within the due time, or a report
# whose time disagrees with the device's by more than the tolerance.
EXCEPTION_KINDS = ("no_footage", "unreported_trigger", "time_mismatch")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


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
    version: Mapped[int] = mapped_column(Integer, default=1)
    """1 when filed; one more for each edit after sign-off (the earlier versions are kept)."""
    updated_at: Mapped[datetime | None]
    signed_off_by: Mapped[str | None] = mapped_column(String(FILED_BY_LENGTH))
    signed_off_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint("cartridges_discharged >= 0", name="cartridges_discharged"),
        Index("ix_taser_deployment_officer_occurred", "officer_id", "occurred_at"),
        Index("ix_taser_deployment_occurred", "occurred_at"),
        Index("ix_taser_deployment_highest_level", "highest_level", "occurred_at"),
    )


class DeploymentVersion(Base):
    """A signed-off version of a report, kept as it was when an edit replaced it: its fields as the
    API served them (``content``), who signed it off and when."""

    __tablename__ = "taser_deployment_version"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("taser_deployment.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    signed_off_by: Mapped[str | None] = mapped_column(String(FILED_BY_LENGTH))
    signed_off_at: Mapped[datetime | None]
    replaced_by: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    replaced_at: Mapped[datetime]


class DeploymentReview(Base):
    """A supervisor's decision on a version of a report: signed off, or returned with comments."""

    __tablename__ = "taser_deployment_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("taser_deployment.id"))
    version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(CODE_LENGTH))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    reviewed_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("decision IN ('signed_off', 'returned')", name="decision"),
        Index("ix_taser_deployment_review_deployment", "deployment_id", "reviewed_at"),
    )


class ClipLink(Base):
    """A clip linked to a report as footage of the use, and why (``LINK_REASONS``)."""

    __tablename__ = "taser_clip_link"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("taser_deployment.id"), primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clip.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(CODE_LENGTH))
    linked_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_one_of("reason", LINK_REASONS), name="reason"),
        Index("ix_taser_clip_link_clip", "clip_id"),
    )


class TaserException(Base):
    """Something about a use of Taser that professional standards must look at (``EXCEPTION_KINDS``),
    open until someone records why (``explanation``, a code and words).

    ``deployment_id`` names the report where there is one; a trigger pull no report accounts for has
    none, and is named by its Taser and time. One open or explained exception per kind and report,
    and per kind, Taser and time: raising it again changes nothing."""

    __tablename__ = "taser_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(CODE_LENGTH))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("taser_deployment.id"))
    taser_serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    occurred_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime]
    explanation: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    explanation_text: Mapped[str | None] = mapped_column(Text)
    explained_by: Mapped[str | None] = mapped_column(String(FILED_BY_LENGTH))
    explained_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_one_of("kind", EXCEPTION_KINDS), name="kind"),
        Index(
            "uq_taser_exception_deployment",
            "kind",
            "deployment_id",
            unique=True,
            **partial_index("deployment_id IS NOT NULL"),
        ),
        Index(
            "uq_taser_exception_device",
            "kind",
            "taser_serial",
            "occurred_at",
            unique=True,
            **partial_index("deployment_id IS NULL"),
        ),
        Index("ix_taser_exception_open", "raised_at", "id", **partial_index("explained_at IS NULL")),
    )


class TaserSetting(Base):
    """A number the Taser rules read, changed by professional standards (``settings.SETTINGS`` names
    them, with their bounds and defaults)."""

    __tablename__ = "taser_setting"

    name: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    updated_at: Mapped[datetime]


# What a Taser handle's log records (``device_logs.parse`` reads the vendor's event types into these):
# armed and made safe, a trigger pull (with or without a cartridge), an arc from the arc switch with no
# trigger pull, and a cartridge deployed from a bay.
ENTRY_KINDS = ("armed", "disarmed", "trigger", "arc", "cartridge_deployed")
IMPORT_FORMATS = ("csv", "json")
# What reconciliation decided about a trigger pull or arc once its report was due: a report accounts
# for it, it was a function (spark) test, or nothing accounts for it (an ``unreported_trigger``).
VERDICTS = ("reported", "spark_test", "unreported")
FILE_NAME_LENGTH = 255


class DeviceLogImport(Base):
    """One device log file imported: who sent it and when, its name and format, and how many of its
    rows were read, stored, already there (duplicates) and refused."""

    __tablename__ = "taser_device_log_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    imported_by: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    imported_at: Mapped[datetime]
    file_name: Mapped[str | None] = mapped_column(String(FILE_NAME_LENGTH))
    format: Mapped[str] = mapped_column(String(CODE_LENGTH))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_stored: Mapped[int] = mapped_column(Integer)
    rows_duplicate: Mapped[int] = mapped_column(Integer)
    rows_refused: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(_one_of("format", IMPORT_FORMATS), name="format"),
        Index("ix_taser_device_log_import_imported", "imported_at"),
    )


class DeviceLogEntry(Base):
    """One event from a Taser handle's own log, in UTC, with the import it came from.

    One entry per Taser, time, kind (and bay, for a cartridge deployed): importing the same file
    again stores nothing twice. ``verdict`` and ``deployment_id`` are reconciliation's decision on a
    trigger pull or arc, set once its report is due."""

    __tablename__ = "taser_device_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    taser_serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(CODE_LENGTH))
    sequence: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    bay: Mapped[int | None] = mapped_column(Integer)
    battery_percent: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    import_id: Mapped[int] = mapped_column(ForeignKey("taser_device_log_import.id"))
    verdict: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("taser_deployment.id"))
    reconciled_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_one_of("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint(f"verdict IS NULL OR {_one_of('verdict', VERDICTS)}", name="verdict"),
        CheckConstraint("bay IS NULL OR bay BETWEEN 1 AND 10", name="bay"),
        CheckConstraint("duration_s IS NULL OR duration_s >= 0", name="duration_s"),
        # A NULL bay is distinct from every other in a unique index on both databases, so the
        # entries without a bay have their own index.
        Index(
            "uq_taser_device_log_entry_event",
            "taser_serial",
            "occurred_at",
            "kind",
            unique=True,
            **partial_index("bay IS NULL"),
        ),
        Index(
            "uq_taser_device_log_entry_bay_event",
            "taser_serial",
            "occurred_at",
            "kind",
            "bay",
            unique=True,
            **partial_index("bay IS NOT NULL"),
        ),
        Index("ix_taser_device_log_entry_occurred", "occurred_at"),
        Index("ix_taser_device_log_entry_import", "import_id"),
        Index(
            "ix_taser_device_log_entry_unreconciled",
            "occurred_at",
            **partial_index("verdict IS NULL AND kind IN ('trigger', 'arc')"),
        ),
    )


class PopulationGroup(Base):
    """How many people of one perceived ethnicity group (``vocabulary.ETHNICITIES`` but not stated)
    live in one area of the force, from a named source (a census), for rates per 1,000 people.

    The areas divide the force's area between them: one row per group for the whole force, or one
    per group for each district; the force's population of a group is the sum over its areas."""

    __tablename__ = "taser_population"

    area: Mapped[str] = mapped_column(String(AREA_LENGTH), primary_key=True)
    ethnicity: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    population: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    year: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(FILED_BY_LENGTH))
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("population >= 0", name="population"),)


# Where an arming was heard: a camera's telemetry, or the Taser's own log read later.
ARMING_SOURCES = ("telemetry", "device_log")
# Why a camera was told to record: it is the armed officer's own, or it was within the radius.
RECORD_REASONS = ("own_camera", "within_radius")
FAILURE_LENGTH = 300


class RecordCommand(Base):
    """A camera told to start recording because a Taser was armed, recorded against the arming: who
    reported it (``reported_by``: the camera for telemetry, the Taser for its log), when and where,
    which camera was told, how far away and why, and whether the message reached the broker.

    One command per arming and camera: an arming heard twice commands nobody twice."""

    __tablename__ = "taser_record_command"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(CODE_LENGTH))
    reported_by: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    taser_serial: Mapped[str | None] = mapped_column(String(SERIAL_LENGTH))
    armed_at: Mapped[datetime]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    camera_serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    reason: Mapped[str] = mapped_column(String(CODE_LENGTH))
    distance_m: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    commanded_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(FAILURE_LENGTH))

    __table_args__ = (
        CheckConstraint(_one_of("source", ARMING_SOURCES), name="source"),
        CheckConstraint(_one_of("reason", RECORD_REASONS), name="reason"),
        Index("uq_taser_record_command_arming", "reported_by", "armed_at", "camera_serial", unique=True),
        Index("ix_taser_record_command_armed", "armed_at", "id"),
        Index("ix_taser_record_command_taser", "taser_serial", "armed_at"),
        Index("ix_taser_record_command_camera", "camera_serial", "armed_at"),
    )
