"""Database engine, declarative base and the one place transactions open and close."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    any_,
    create_engine,
    event,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

from openbwv.errors import DatabaseBusy, OpenbwvError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def partial_index(condition: str) -> dict[str, Any]:
    """Keyword arguments that make an ``Index`` partial, with the same condition on both databases."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


# How long a SQLite transaction waits for the write lock before the request is refused with a 503.
SQLITE_WRITER_WAIT_SECONDS = 30.0
# An execution option: a session bound with it reads without queueing for the write lock.
READ_ONLY = "openbwv_read_only"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by `_SQLiteWriterQueue`, not by the driver, so that each can be IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WRITER_WAIT_SECONDS * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _SQLiteWriterQueue:
    """SQLite allows one writer at a time: writers in this process queue on a lock, then BEGIN IMMEDIATE.

    A transaction that began DEFERRED, read, and then tried to write after another writer committed
    fails at once with "database is locked" (its snapshot is stale), whatever the busy timeout. So every
    transaction takes the write lock when it begins, in the order they arrive, and a burst of writers
    waits its turn. Other processes (the CLI beside the server) wait on SQLite's busy timeout. Sessions
    bound with the ``READ_ONLY`` execution option begin DEFERRED and do not queue.
    """

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        # The driver connection whose transaction holds the lock; there is at most one.
        self._holder: Any = None
        dialect = engine.dialect
        self._commit, self._rollback = dialect.do_commit, dialect.do_rollback
        # The dialect's own commit and rollback, then the lock: the next writer starts only once the
        # previous transaction has ended in the file. The pool resets returned connections through the
        # same rollback, so no path leaves the lock held.
        dialect.do_commit = self._do_commit  # type: ignore[method-assign]
        dialect.do_rollback = self._do_rollback  # type: ignore[method-assign]
        event.listen(engine, "begin", self._begin)

    def _begin(self, connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        if not self._lock.acquire(timeout=SQLITE_WRITER_WAIT_SECONDS):
            raise DatabaseBusy("The database is busy; try again in a moment.")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        self._holder = connection.connection.dbapi_connection

    def _release(self, dbapi_connection: Any) -> None:
        # Called with the pool's proxy or, while the pool first connects, with the driver's connection.
        if getattr(dbapi_connection, "dbapi_connection", dbapi_connection) is self._holder is not None:
            self._holder = None
            self._lock.release()

    def _do_commit(self, dbapi_connection: Any) -> None:
        try:
            self._commit(dbapi_connection)
        finally:
            self._release(dbapi_connection)

    def _do_rollback(self, dbapi_connection: Any) -> None:
        try:
            self._rollback(dbapi_connection)
        finally:
            self._release(dbapi_connection)


# The PostgreSQL pool may open this many times its size again under a burst, closing them when idle.
POOL_OVERFLOW_FACTOR = 2


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and queued writers.

    On PostgreSQL ``pool_size`` connections stay open (``OPENBWV_DATABASE_POOL_SIZE``) and up to
    twice as many more open under a burst; SQLite ignores it.
    """
    if url.startswith("sqlite"):
        # Writers wait for the lock holding a pooled connection (a CLI beside the server, jobs, sign-ins):
        # overflow connections are opened as needed rather than the pool running dry first; the
        # request thread pool bounds them.
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        pooling: dict[str, Any] = {} if in_memory else {"pool_size": 10, "max_overflow": -1}
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, hide_parameters=True, **pooling
        )
        event.listen(engine, "connect", _configure_sqlite)
        _SQLiteWriterQueue(engine)
        _session_slots[engine.pool] = 1
        return engine
    max_overflow = POOL_OVERFLOW_FACTOR * pool_size
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, hide_parameters=True
    )
    _session_slots[engine.pool] = session_slots(pool_size + max_overflow)
    return engine


def session_slots(connections: int) -> int:
    """How many request sessions may hold a connection at once out of ``connections``: all but the
    reserved ones, of which a small pool keeps a third (at least one) rather than none."""
    reserved = max(min(_RESERVED_CONNECTIONS, connections // 3), 1)
    return max(1, connections - reserved)


_read_only_binds: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a transaction that only reads: on SQLite it does not queue behind writers."""
    bind = factory.kw["bind"]
    # Every signed-in request reads its caller this way: the read-only binding is made once per engine.
    read_only = _read_only_binds.get(bind)
    if read_only is None:
        read_only = _read_only_binds[bind] = bind.execution_options(**{READ_ONLY: True})
    with factory(bind=read_only) as session:
        yield session


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``read_only`` ones do not queue for SQLite's write lock (they may still
    write, but a concurrent writer can then refuse them with "database is locked")."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit when the block ends, roll back on any exception: for the CLI, jobs and requests."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def violated_unique(exc: IntegrityError) -> str | None:
    """The name of the unique constraint or index a write broke, or None for another integrity error.

    PostgreSQL names it; SQLite names the columns (or, for an index on expressions, the index), which
    are matched against the models' constraints and indexes.
    """
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        return diag.constraint_name if getattr(exc.orig, "sqlstate", None) == "23505" else None
    message = str(exc.orig)
    prefix = "UNIQUE constraint failed: "
    if not message.startswith(prefix):
        return None
    failed = message.removeprefix(prefix)
    if failed.startswith("index '"):
        return failed.removeprefix("index '").removesuffix("'")
    qualified = [part.strip().split(".") for part in failed.split(",")]
    table = Base.metadata.tables.get(qualified[0][0])
    columns = {column for _, column in qualified}
    if table is None:
        return None
    if {c.name for c in table.primary_key.columns} == columns:
        return str(table.primary_key.name)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and {c.name for c in constraint.columns} == columns:
            return str(constraint.name)
    for index in table.indexes:
        if index.unique and {c.name for c in index.columns} == columns:
            return str(index.name)
    return None


@contextmanager
def refusing_duplicates(db: Session, refusals: Mapping[str, OpenbwvError]) -> Iterator[None]:
    """Write the block's changes in a savepoint; if they break one of the named unique constraints or
    indexes, that constraint's refusal is raised instead of the database error.

    A service checks its "only one" rule before writing to give a helpful answer, but two requests can
    pass that check at the same moment: the constraint decides, and the losing side gets the same
    refusal. The savepoint leaves the session usable, so a page can redraw its form.
    """
    try:
        with db.begin_nested():
            yield
    except IntegrityError as exc:
        refusal = refusals.get(violated_unique(exc) or "")
        if refusal is None:
            raise
        raise refusal from exc


def get_session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


async def _off_the_loop(work: Callable[[], object]) -> None:
    # A limiter of its own, as FastAPI does for a dependency's exit: ending a transaction never waits
    # for a free thread of the request pool, which waiting requests may hold.
    await anyio.to_thread.run_sync(work, limiter=anyio.CapacityLimiter(1))


# Connections kept free of request sessions: for callers' short lookups, refusals' audit events and jobs.
_RESERVED_CONNECTIONS = 5
_session_slots: weakref.WeakKeyDictionary[Pool, int] = weakref.WeakKeyDictionary()
_session_gates: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Pool, anyio.CapacityLimiter]
] = weakref.WeakKeyDictionary()


def _session_gate(factory: sessionmaker[Session]) -> anyio.CapacityLimiter:
    """Requests with a session wait their turn here, in the event loop, rather than in the request
    thread pool. A request whose transaction holds a connection (or SQLite's write lock) needs a pool
    thread to shape its answer before it commits; if every pool thread were held by requests waiting
    for a connection or the lock, none would move. So at most one request session at a time on
    SQLite, and on PostgreSQL a few fewer than the connection pool holds."""
    pool = factory.kw["bind"].pool
    gates = _session_gates.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    gate = gates.get(pool)
    if gate is None:
        gate = gates[pool] = anyio.CapacityLimiter(_session_slots.get(pool, 1))
    return gate


# The request scope's key marking a request whose route holds a `Db` session while it runs.
_HOLDS_SESSION = "openbwv.holds_session"


def holds_session(request: Request) -> bool:
    """Whether the route handling ``request`` declared ``Db`` and so holds a session as it runs."""
    return bool(request.scope.get(_HOLDS_SESSION))


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's session: committed when the handler returns, rolled back if it raises.

    Declared with ``scope="function"`` so that the commit happens before the response is sent: an
    answer means the write is stored (a request-scoped dependency would commit after the response).
    """
    factory = get_session_factory(request)
    async with _session_gate(factory):
        session = factory()
        request.scope[_HOLDS_SESSION] = True
        try:
            yield session
            await _off_the_loop(session.commit)
        except BaseException:
            await _off_the_loop(session.rollback)
            raise
        finally:
            request.scope[_HOLDS_SESSION] = False
            await _off_the_loop(session.close)


Db = Annotated[Session, Depends(get_db, scope="function")]
SessionFactory = Annotated[sessionmaker[Session], Depends(get_session_factory)]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: ``COPY`` on PostgreSQL, executemany elsewhere.

    Every row must name the same columns; column defaults are not applied, so give every value.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def in_values(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any], values: list[str]
) -> ColumnElement[bool]:
    """``column IN values`` for thousands of values: one array parameter on PostgreSQL, whose planner
    is slow over thousands of separate parameters; a plain ``IN`` elsewhere."""
    if session.connection().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(String)))
    return column.in_(values)
