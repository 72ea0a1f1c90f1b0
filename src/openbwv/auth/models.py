from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbwv import clock
from openbwv.db import Base, partial_index


class UserAccount(Base):
    """A login: a force member linked to an officer record, or an external user (prosecutor, panel)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an admin sets a temporary password: the account may sign in, then must change it
    # before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        Index(
            "uq_user_account_officer", "officer_id", unique=True, **partial_index("officer_id IS NOT NULL")
        ),
    )


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)

    user: Mapped[UserAccount] = relationship(back_populates="roles")


class AuthToken(Base):
    """A bearer token or web session; only its SHA-256 is stored, so a database leak yields no tokens."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed sign-in, counted per typed username and per address to throttle guessing."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    client_address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        Index("ix_login_failure_username_failed_at", "username", "failed_at"),
        Index("ix_login_failure_client_address_failed_at", "client_address", "failed_at"),
    )


class DeviceCredential(Base):
    """A camera's or dock's bearer credential: only its SHA-256 is stored, with what it may do.

    A device has at most one live (unrevoked) credential: issuing a new one revokes the old, and
    the partial unique index makes that a database rule. Rows are kept after revocation as history.
    """

    __tablename__ = "device_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    # Copied at issue, so resolving a credential reads this table alone.
    device_serial: Mapped[str] = mapped_column(String(60))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated ``DeviceScope`` values, sorted.
    scopes: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(150))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(150))
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        # By serial, which is as unique as the device: marking a use finds the row by it.
        Index(
            "uq_device_credential_live", "device_serial", unique=True, **partial_index("revoked_at IS NULL")
        ),
    )
