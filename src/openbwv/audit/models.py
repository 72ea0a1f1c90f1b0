from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbwv.db import Base

# SQLite makes an ``INTEGER PRIMARY KEY`` the row id; ``BIGINT`` would add a second index.
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    """One security-relevant event. Rows are only ever inserted, never updated or deleted.

    Every column that describes the event is immutable after insert: the transparency log hashes
    them into the event's leaf. ``id`` does not give the log's order (on PostgreSQL ids from the
    sequence can commit out of order); ``audit_leaf.leaf_index`` does.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
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
        # Pattern operators, so that PostgreSQL serves a search by the start of a username from it.
        Index(
            "ix_audit_event_actor_occurred",
            "actor_username",
            "occurred_at",
            postgresql_ops={"actor_username": "varchar_pattern_ops"},
        ),
        Index("ix_audit_event_action_occurred", "action", "occurred_at"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )


class AuditPending(Base):
    """Events committed but not yet in the log: a work queue that a database trigger fills.

    The trigger queues every inserted event whatever code path wrote it; the sequencer takes rows
    in event id order and deletes them once their events are leaves. The queue, not an anti-join
    over all events, is what keeps each sequencing run proportional to the backlog.
    """

    __tablename__ = "audit_pending"

    event_id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=False)


class AuditLeaf(Base):
    """The log's order: leaf ``leaf_index`` is event ``event_id``, whose canonical bytes hash to
    ``leaf_hash`` (RFC 9162 leaf hash). The leaf hashes are also the tree's level 0."""

    __tablename__ = "audit_leaf"

    leaf_index: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditTreeNode(Base):
    """Hash of the complete subtree ``(level, idx)`` for level 1 and up: written once, never changed.

    Node ``(k, i)`` covers leaves ``[i * 2**k, (i + 1) * 2**k)``. Roots and proofs for any tree size
    are folded from O(log n) of these (see ``openbwv.audit.merkle``).
    """

    __tablename__ = "audit_tree_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = ({"sqlite_with_rowid": False},)


class AuditCheckpoint(Base):
    """A signed tree head, kept for ever: ``note`` is the C2SP checkpoint signed note."""

    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)


class AuditVerification(Base):
    """The outcome of one run of the independent verifier, shown on the auditor's pages."""

    __tablename__ = "audit_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    run_by: Mapped[str] = mapped_column(String(150))
    ok: Mapped[bool]
    leaves_checked: Mapped[int] = mapped_column(BigInteger)
    checkpoints_checked: Mapped[int]
    first_bad_leaf: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)


class AuditAlert(Base):
    """How professional standards handle one misuse alert (the ``audit:alert:raised`` event
    ``event_id``): ``open``, then ``acknowledged``, then ``closed`` with an outcome. Each change is also
    an audit event; this row is what a change locks and what the alert list filters on."""

    __tablename__ = "audit_alert"

    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("audit_event.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(150))
    acknowledged_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(150))
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class AuditAlertNote(Base):
    """A note on an alert: only ever added, never changed or removed."""

    __tablename__ = "audit_alert_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("audit_alert.event_id"), index=True)
    author: Mapped[str] = mapped_column(String(150))
    written_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class AuditRuleThreshold(Base):
    """One misuse rule's threshold as the force sets it; the rules read these each run. Seeded with
    the defaults; ``changed_by`` and ``changed_at`` stay empty until someone changes it."""

    __tablename__ = "audit_rule_threshold"

    rule: Mapped[str] = mapped_column(String(80), primary_key=True)
    parameter: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]
    changed_by: Mapped[str | None] = mapped_column(String(150))
    changed_at: Mapped[datetime | None]
