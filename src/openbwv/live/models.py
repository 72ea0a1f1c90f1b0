"""Live tables: the latest state of each camera, the history of its positions, and the readers a media
server let in under a live view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base, partial_index

SERIAL_LENGTH = 60
EVENT_LENGTH = 30
KICK_ERROR_LENGTH = 300


class KickCause(StrEnum):
    """Why a media server's reader was closed: its viewer ended the view, it expired, or someone
    else (professional standards) ended it."""

    ENDED = "ended"
    EXPIRED = "expired"
    REVOKED = "revoked"


class CameraLiveState(Base):
    """What a camera last said about itself: one row per camera (the serial is the key), replaced
    only by a newer message, so a late or replayed one never moves a camera back."""

    __tablename__ = "live_camera_state"

    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), primary_key=True)
    ts: Mapped[datetime]
    received_at: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    recording: Mapped[bool]
    battery_pct: Mapped[float] = mapped_column(Float)
    storage_pct: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    event: Mapped[str | None] = mapped_column(String(EVENT_LENGTH))

    __table_args__ = (Index("ix_live_camera_state_ts", "ts"),)


class PositionRecord(Base):
    """One accepted message, kept for the history's retention (``OPENBWV_LIVE_HISTORY_DAYS``)."""

    __tablename__ = "live_position"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH))
    ts: Mapped[datetime]
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    recording: Mapped[bool]
    battery_pct: Mapped[float] = mapped_column(Float)
    storage_pct: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    event: Mapped[str | None] = mapped_column(String(EVENT_LENGTH))

    __table_args__ = (
        Index("ix_live_position_serial_ts", "serial", "ts"),
        Index("ix_live_position_ts", "ts"),
    )


class MediaServerRead(Base):
    """A reader MediaMTX let in under a live view (``view_id``, the view's grant), kept so that
    MediaMTX is told to close it (its API's kick) once the view is no longer live.

    ``connection_id`` is MediaMTX's id of the reader's session or connection; it is None where
    MediaMTX sent none (HLS before MediaMTX 1.18) or its protocol has no kick, and such a reader
    cannot be closed. ``kicked_at`` and ``kick_cause`` (``ended``, ``expired`` or ``revoked``) are set
    once MediaMTX has closed it or answered that it was gone; until then ``kick_attempts`` counts the
    kicks that failed and ``kick_error`` says how the last one did.
    """

    __tablename__ = "live_media_server_read"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    view_id: Mapped[int] = mapped_column(ForeignKey("access_grant.id"))
    connection_id: Mapped[str | None] = mapped_column(String(100))
    protocol: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(String(200))
    admitted_at: Mapped[datetime]
    kicked_at: Mapped[datetime | None]
    kick_cause: Mapped[str | None] = mapped_column(String(10))
    kick_attempts: Mapped[int] = mapped_column(Integer, default=0)
    kick_error: Mapped[str | None] = mapped_column(String(KICK_ERROR_LENGTH))

    __table_args__ = (
        CheckConstraint(
            "kick_cause IS NULL OR kick_cause IN ('ended', 'expired', 'revoked')", name="kick_cause"
        ),
        # The readers still to close: what every run of the closing job reads.
        Index(
            "ix_live_media_server_read_open",
            "view_id",
            **partial_index("kicked_at IS NULL AND connection_id IS NOT NULL"),
        ),
    )
