from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base


class AuditEvent(Base):
    """One security-relevant event. Rows are only ever inserted, never updated or deleted.

    ``id`` orders events as they were committed; the transparency log takes them as leaves in that
    order, so every column that describes the event is immutable after insert.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime]
    actor_username: Mapped[str] = mapped_column(String(150))
    actor_user_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_actor_occurred", "actor_username", "occurred_at"),
        Index("ix_audit_event_action_occurred", "action", "occurred_at"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )
