"""Resumable uploads and the parts that have arrived of each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from openbwv import clock
from openbwv.db import Base, partial_index


class UploadState(StrEnum):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    TERMINATED = "terminated"
    EXPIRED = "expired"


UPLOAD_STATES = tuple(UploadState)


class Upload(Base):
    """One file a dock is sending: its length, how much is stored (``offset``) and what it says it is.

    ``offset`` moves only once a part's bytes are stored and recorded in the same transaction, so it
    is always what a resuming client may build on.
    """

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_serial: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # Every pair of the tus Upload-Metadata header, decoded: filename, camera_serial, recorded_at and
    # sha256 at least.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    state: Mapped[str] = mapped_column(String(20), default=UploadState.RECEIVING)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # The SHA-256 of every byte received, once complete: HEAD answers it so the dock can compare it
    # with its own before it lets the camera wipe the file.
    received_sha256: Mapped[str | None] = mapped_column(String(64))
    terminated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"state IN ({', '.join(repr(s.value) for s in UploadState)})", name="state"),
        CheckConstraint('0 <= "offset" AND "offset" <= length', name="offset_within_length"),
        Index("ix_upload_device_serial", "device_serial"),
        Index("ix_upload_expires_at_receiving", "expires_at", **partial_index("state = 'receiving'")),
    )


class UploadPart(Base):
    """Bytes ``offset`` to ``offset + length`` of an upload, stored as one object under ``key``.

    The key says which upload and offset it holds, and a random tail: two racing requests at one
    offset write different objects, and only the one whose row commits is ever read.
    """

    __tablename__ = "upload_part"

    upload_id: Mapped[str] = mapped_column(ForeignKey("upload.id", ondelete="CASCADE"), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (CheckConstraint("length > 0", name="length_positive"),)
