"""The retention job reads its batches straight off its partial indexes, in index order, on each
database: the selection stays cheap over millions of clips (the benchmark measures how cheap)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from openbwv import clock
from openbwv.footage import retention


def plan(db: Session, query: ClauseElement) -> str:
    """The database's plan for ``query``, as one text."""
    connection = db.connection()
    compiled = query.compile(connection)
    assert isinstance(compiled, SQLCompiler)
    if connection.dialect.name == "sqlite":
        params = tuple(
            str(value) if isinstance(value, datetime) else value
            for value in (compiled.params[name] for name in compiled.positiontup or ())
        )
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(str(row[-1]) for row in rows)
    # An empty table would be read whole: plan as for a big one.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(
        str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    )


def test_due_clips_are_read_off_the_retention_index_without_a_sort(db: Session) -> None:
    buckets = retention._buckets(db)
    assert {b.untagged for b in buckets} == {True, False}
    for bucket in buckets:
        found = plan(db, retention._due_query(bucket, clock.now()).limit(500))
        # Either partial index in (category_id, recorded_at, id) order: the category's due clips are
        # its first entries. Never ``ix_clip_recorded``, which walks every older clip still kept.
        assert "ix_clip_retention" in found or "ix_clip_category" in found, found
        assert "ix_clip_recorded" not in found, found
        assert "Sort" not in found and "TEMP B-TREE" not in found, found


def test_deleted_clips_past_the_window_are_read_off_the_recoverable_index(db: Session) -> None:
    found = plan(db, retention._expired_query(clock.now(), timedelta(days=7)).limit(500))
    assert "ix_clip_recoverable" in found, found
    assert "Sort" not in found and "TEMP B-TREE" not in found, found
