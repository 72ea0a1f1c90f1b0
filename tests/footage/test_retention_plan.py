"""The retention job reads its batches straight off its partial indexes, in index order, on each
database: the selection stays cheap over millions of clips (the benchmark measures how cheap)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
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
    return "\n".join(
        str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    )


@pytest.fixture
def library(db: Session) -> Session:
    """On PostgreSQL, plan as for a force's library: years of clips, most of them kept (evidential
    categories, or flagged), some due, with the statistics the nightly ANALYZE keeps. SQLite plans
    from the indexes alone."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "INSERT INTO clip (sha256, size, storage_key, camera_serial, recorded_at, ingest_state,"
            " category_id, evidence_flag, legal_hold, created_at)"
            " SELECT md5(n::text) || md5((-n)::text), 1, 'clips/' || n, 'CAM',"
            " %(now)s - n * interval '10 minutes',"
            " 'ready', CASE WHEN mod(n, 10) = 0 THEN (SELECT id FROM footage_category WHERE is_default)"
            " ELSE (SELECT min(id) FROM footage_category WHERE retention_days IS NULL) END,"
            " mod(n, 7) = 0, false, %(now)s FROM generate_series(1, 50000) AS n",
            {"now": clock.now()},
        )
        connection.exec_driver_sql("ANALYZE clip")
    return db


def test_due_clips_are_read_off_the_retention_index_without_a_sort(library: Session) -> None:
    db = library
    buckets = retention._buckets(db)
    assert {b.untagged for b in buckets} == {True, False}
    for bucket in buckets:
        found = plan(db, retention._due_query(bucket, clock.now()).limit(500))
        assert "ix_clip_retention" in found, found
        assert "Sort" not in found and "TEMP B-TREE" not in found, found


def test_deleted_clips_past_the_window_are_read_off_the_recoverable_index(library: Session) -> None:
    db = library
    found = plan(db, retention._expired_query(clock.now(), timedelta(days=7)).limit(500))
    assert "ix_clip_recoverable" in found, found
    assert "Sort" not in found and "TEMP B-TREE" not in found, found
