"""The transparency log over audit events: sequencing events into leaves and signing checkpoints.

A database trigger queues every inserted event in ``audit_pending``. ``sequence`` takes queued
events in batches under the log's lock (one writer at a time), gives them contiguous leaf indexes
in event id order, appends their leaf hashes with ``merkle.append_leaves`` and stores the new leaves
and subtree hashes. It never relies on event ids committing in order: an event whose transaction
commits late is simply queued late and gets a later leaf. ``publish_checkpoint`` signs the current
tree head as a C2SP checkpoint. Both are idempotent, for the jobs engine to run every few seconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit import canonical, merkle, note
from openbwv.audit.models import AuditCheckpoint, AuditLeaf, AuditPending
from openbwv.config import ConfigError, Settings, make_private_dir
from openbwv.db import READ_ONLY, transaction
from openbwv.errors import Conflict

KEY_FILE = "audit-log.key"
LOCK_KEY = int.from_bytes(b"obwvaudt", "big")
"""PostgreSQL advisory lock held by whoever appends to the log or signs a checkpoint."""
BATCH_SIZE = 10_000
MAX_BATCHES = 100


def lock_log(db: Session) -> None:
    """Make this transaction the log's only writer until it ends; call before reading log state.

    PostgreSQL: a transaction-level advisory lock. SQLite: every writing transaction begins
    ``BEGIN IMMEDIATE`` (``openbwv.db``), holding the database write lock from its first statement, so
    two sequencers cannot both read the same tree size.
    """
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif connection.get_execution_options().get(READ_ONLY):
        raise RuntimeError("the audit log's writer needs a session that queues for the write lock")


def current_size(db: Session) -> int:
    """Leaves in the log (sequenced, whether or not a checkpoint covers them yet)."""
    last = db.scalar(select(func.max(AuditLeaf.leaf_index)))
    return 0 if last is None else last + 1


def node_fetcher(db: Session, *, signed_size: int | None = None) -> merkle.FetchNodes:
    """A ``merkle.FetchNodes`` over the stored tree: one query for any set of node ids.

    With ``signed_size``, the same query returns nothing unless a checkpoint covers that many leaves,
    so a proof for a signed tree costs one round trip. Proofs are the log's hottest read, so the
    query is plain SQL: on PostgreSQL one fixed text with array parameters (prepared once per
    connection), elsewhere one exact key lookup per node with its text cached by shape (SQLite
    scans the table for a row-value ``IN``). Leaves come from ``audit_leaf``.
    """
    connection = db.connection()
    postgres = connection.dialect.name == "postgresql"
    guarded = signed_size is not None

    def fetch(ids: Sequence[merkle.NodeId]) -> Mapping[merkle.NodeId, bytes]:
        if not ids:
            return {}
        leaves = [index for level, index in ids if level == 0]
        inner = [(level, index) for level, index in ids if level > 0]
        guard = (signed_size,) if guarded else ()
        if postgres:
            sql = _POSTGRES_FETCH_GUARDED if guarded else _POSTGRES_FETCH
            params: tuple[Any, ...] = (
                leaves,
                *guard,
                [level for level, _ in inner],
                [index for _, index in inner],
                *guard,
            )
        else:
            sql = _sqlite_fetch(len(leaves), len(inner), guarded=guarded)
            params = (
                *leaves,
                *(guard if leaves else ()),
                *(value for node in inner for value in node),
                *(guard if inner else ()),
            )
        rows = connection.exec_driver_sql(sql, params)
        return {(level, index): bytes(digest) for level, index, digest in rows}

    return fetch


_GUARD = " AND EXISTS (SELECT 1 FROM audit_checkpoint WHERE tree_size >= {mark})"
_POSTGRES_FETCH_TEMPLATE = (
    "SELECT 0, leaf_index, leaf_hash FROM audit_leaf WHERE leaf_index = ANY(%s::bigint[]){guard} "
    "UNION ALL SELECT n.level, n.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
    "JOIN audit_tree_node n ON n.level = k.level AND n.idx = k.idx WHERE true{guard}"
)
_POSTGRES_FETCH = _POSTGRES_FETCH_TEMPLATE.format(guard="")
_POSTGRES_FETCH_GUARDED = _POSTGRES_FETCH_TEMPLATE.format(guard=_GUARD.format(mark="%s"))


@lru_cache(maxsize=1024)
def _sqlite_fetch(leaves: int, inner: int, *, guarded: bool) -> str:
    guard = _GUARD.format(mark="?") if guarded else ""
    parts = []
    if leaves:
        marks = ", ".join(["?"] * leaves)
        parts.append(f"SELECT 0, leaf_index, leaf_hash FROM audit_leaf WHERE leaf_index IN ({marks}){guard}")
    if inner:
        keys = " OR ".join(["(level = ? AND idx = ?)"] * inner)
        parts.append(f"SELECT level, idx, hash FROM audit_tree_node WHERE ({keys}){guard}")
    return " UNION ALL ".join(parts)


def sequence_batch(db: Session, *, limit: int = BATCH_SIZE) -> int:
    """Append up to ``limit`` queued events to the log in the caller's transaction, which must hold
    ``lock_log``. Returns how many leaves were added."""
    events = _queued_events(db, limit)
    if not events:
        return 0
    size = current_size(db)
    ids = merkle.frontier_nodes(size)
    stored = node_fetcher(db)(ids)
    frontier = [stored[node] for node in ids]
    hashes = [merkle.leaf_hash(canonical.leaf_bytes(event)) for event in events]
    result = merkle.append_leaves(size, frontier, hashes)
    _insert_rows(
        db,
        "audit_leaf",
        ("leaf_index", "event_id", "leaf_hash"),
        [
            (size + n, event["id"], digest)
            for n, (event, digest) in enumerate(zip(events, hashes, strict=True))
        ],
    )
    _insert_rows(db, "audit_tree_node", ("level", "idx", "hash"), [node for node in result.nodes if node[0]])
    # The events just made leaves, found by leaf index: no parameter list as long as the batch.
    made = select(AuditLeaf.event_id).where(AuditLeaf.leaf_index >= size)
    db.execute(delete(AuditPending).where(AuditPending.event_id.in_(made)))
    return len(events)


def _queued_events(db: Session, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` queued events in event id order, as ``canonical.leaf_bytes`` takes them.

    The hot path reads with the driver's own types rather than the ORM's per-value conversions,
    which cost more than the hashing; the verifier reads through the ORM types, and tests check
    that both give the same bytes. SQLite keeps times as naive UTC text and JSON as text.
    """
    columns = ", ".join(f"e.{name}" for name in canonical.FIELDS)
    batch = f"SELECT event_id FROM audit_pending ORDER BY event_id LIMIT {int(limit)}"
    if db.get_bind().dialect.name == "postgresql":
        # One key lookup per queued event, whatever the statistics say: a lateral subquery that
        # ``OFFSET 0`` keeps from being flattened into a join the planner may turn into a full scan.
        # The cost estimate of that plan would also trigger JIT compiling, slower than the query.
        db.execute(text("SET LOCAL jit = off"))
        sql = (
            f"SELECT {columns} FROM ({batch}) p CROSS JOIN LATERAL "
            "(SELECT * FROM audit_event WHERE id = p.event_id OFFSET 0) e ORDER BY p.event_id"
        )
    else:
        sql = f"SELECT {columns} FROM ({batch}) p JOIN audit_event e ON e.id = p.event_id ORDER BY p.event_id"
    rows = db.connection().exec_driver_sql(sql).fetchall()
    events = [dict(zip(canonical.FIELDS, row, strict=True)) for row in rows]
    if db.get_bind().dialect.name == "sqlite":
        for event in events:
            moment = datetime.fromisoformat(event["occurred_at"])
            event["occurred_at"] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            event["details"] = json.loads(event["details"]) if event["details"] is not None else None
    return events


def _insert_rows(db: Session, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain tuples in the session's transaction: ``COPY`` on PostgreSQL, the driver's
    executemany on SQLite (both skip the per-row parameter processing of ``insert()``)."""
    if not rows:
        return
    connection = db.connection()
    names = ", ".join(columns)
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def sequence(
    factory: sessionmaker[Session], *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """Append queued events to the log, one transaction per batch; returns the leaves added.

    Stops when the queue is empty or after ``max_batches`` (so one run stays short under load).
    """
    added = 0
    for _ in range(max_batches):
        with transaction(factory) as db:
            lock_log(db)
            count = sequence_batch(db, limit=batch_size)
        added += count
        if count < batch_size:
            break
    return added


def publish_checkpoint(factory: sessionmaker[Session], settings: Settings) -> AuditCheckpoint | None:
    """Sign and store a checkpoint for the current tree; None when the latest already covers it.

    Refuses (``Conflict``) to sign a tree that does not extend the latest checkpoint, as a log must
    never sign two inconsistent checkpoints: the stored tree must still fold to that checkpoint's root.
    """
    signer = log_signer(settings)
    with transaction(factory) as db:
        lock_log(db)
        size = current_size(db)
        latest = db.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
        ).first()
        if latest is not None and latest.tree_size == size:
            return None
        fetch = node_fetcher(db)
        try:
            if latest is not None and (
                latest.tree_size > size or merkle.root_hash(latest.tree_size, size, fetch) != latest.root_hash
            ):
                raise Conflict(
                    f"The stored log no longer extends checkpoint {latest.tree_size}; "
                    "no new checkpoint is signed. Run `openbwv audit verify`.",
                    rule="audit_log_inconsistent",
                )
            root = merkle.root_hash(size, size, fetch)
        except merkle.MissingNodeError as exc:
            raise Conflict(
                f"The stored log tree is incomplete: {exc}.", rule="audit_log_incomplete"
            ) from None
        body = note.format_checkpoint(settings.audit_log_origin, size, root)
        checkpoint = AuditCheckpoint(
            tree_size=size, root_hash=root, created_at=clock.now(), note=note.sign_note(body, signer)
        )
        db.add(checkpoint)
    return checkpoint


def sequence_and_checkpoint(factory: sessionmaker[Session], settings: Settings) -> AuditCheckpoint | None:
    """Sequence queued events, then sign a checkpoint if the tree grew: the periodic job."""
    sequence(factory)
    return publish_checkpoint(factory, settings)


def log_signer(settings: Settings) -> note.Ed25519Signer:
    """The log's Ed25519 key, kept in ``<data dir>/audit-log.key`` (mode 0600), created on first use."""
    return _load_or_create_key((settings.data_dir / KEY_FILE).resolve(), settings.audit_log_origin)


def verifier_key(settings: Settings) -> str:
    """The C2SP verifier key string that checks this log's checkpoints."""
    return log_signer(settings).verifier().vkey()


@lru_cache(maxsize=16)
def _load_or_create_key(path: Path, origin: str) -> note.Ed25519Signer:
    if not path.exists():
        _create_key_file(path, note.Ed25519Signer.generate(origin).skey())
    signer = note.Ed25519Signer.from_skey(path.read_text().strip())
    if signer.name != origin:
        raise ConfigError(
            f"The audit log key in {path} is for origin {signer.name!r}, but OPENBWV_AUDIT_LOG_ORIGIN "
            f"is {origin!r}; checkpoints already signed would no longer verify."
        )
    return signer


def _create_key_file(path: Path, skey: str) -> None:
    """Write the key to a private temporary file, then link it into place: if another process got
    there first, its key wins and this one is discarded."""
    make_private_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".audit-log-key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(skey + "\n")
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
