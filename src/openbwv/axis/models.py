"""What an Axis body worn system has stored here: its sign-in tokens, its containers and their objects.

The bytes of each object live in the object store under ``storage_key``; these rows hold what the
Swift API says about them (metadata headers, size, checksums) and where a recording stands.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbwv import clock
from openbwv.db import Base

# What a container is, by its name: the API's fixed containers, one per recording, rejected content.
CONTAINER_KINDS = ("system", "users", "devices", "recording", "rejected")
# What an object is: a clip, its encryption key file, the GNSS track, a bookmark, a user or device
# description, a system object, or anything else the system stores (kept, never ingested).
OBJECT_KINDS = ("clip", "key", "gnss", "bookmark", "user", "device", "system", "other")


class AxisToken(Base):
    """A Swift ``X-Auth-Token`` issued to an Axis system for a short while; only its SHA-256 is stored.

    It works only while the device credential it was issued against is still the device's live one,
    so revoking the credential ends its tokens too."""

    __tablename__ = "axis_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    device_serial: Mapped[str] = mapped_column(String(60))
    credential_id: Mapped[int] = mapped_column(ForeignKey("device_credential.id"))
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AxisContainer(Base):
    """A Swift container in an Axis system's account; a recording's also holds what its name says."""

    __tablename__ = "axis_container"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(20))
    # X-Container-Meta-* as the system sent them, names in the API's capitalisation, values decoded.
    meta: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # For a recording: <UserID>_<BWCSerialNumber>_<TriggerOnTime>.
    user_id: Mapped[str | None] = mapped_column(String(100))
    camera_serial: Mapped[str | None] = mapped_column(String(100))
    triggered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # When the system marked it Complete; its clips were handed to footage ingest in that transaction.
    completed_at: Mapped[datetime | None]

    objects: Mapped[list[AxisObject]] = relationship(
        back_populates="container", order_by="AxisObject.name", lazy="raise"
    )

    __table_args__ = (UniqueConstraint("account", "name"),)


class AxisObject(Base):
    """A Swift object: its bytes in the object store, its metadata and checksums here."""

    __tablename__ = "axis_object"

    id: Mapped[int] = mapped_column(primary_key=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("axis_container.id"))
    name: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(1500))
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(200))
    meta: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    stored_at: Mapped[datetime] = mapped_column(default=clock.now)

    container: Mapped[AxisContainer] = relationship(back_populates="objects", lazy="raise")

    __table_args__ = (UniqueConstraint("container_id", "name"),)
