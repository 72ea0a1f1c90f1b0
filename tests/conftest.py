"""Fixtures shared by every test: a migrated database on SQLite and PostgreSQL, an app, and users.

Each test gets a clean database: on SQLite a copy of a freshly migrated file, on PostgreSQL a
schema of this run's own, emptied after each test. Under CI a PostgreSQL that cannot be reached
fails the run instead of skipping its half.

Every test also runs on a fixed clock (``clock``), so no test depends on the day it runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import alembic
import psycopg
import pytest
import sqlalchemy
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from pgqueuer.domain.settings import db_settings
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

import openbwv
from openbwv.app import create_app
from openbwv.auth import passwords
from openbwv.clock import FixedClock, using
from openbwv.config import Settings
from openbwv.db import Base, make_engine, make_session_factory
from openbwv.jobs import JobRegistry
from openbwv.migrate import upgrade
from tests import route_state
from tests.s3 import BUCKET

POSTGRES_URL = os.environ.get(
    "OPENBWV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
route_state.install()
# Rows that migrations seed; they stay between tests.
SEEDED_TABLES = {
    "rank",
    "alembic_version",
    "training_course",
    "taser_model",
    "footage_category",
    "audit_rule_threshold",
}
# pgqueuer's tables (migration 0002) are not on Base.metadata; emptied too, so that no job or
# schedule outlives its test.
JOB_TABLES = tuple(
    getattr(db_settings(), name)
    for name in ("queue_table", "queue_table_log", "statistics_table", "schedules_table")
)


# The moment every test starts at; a test moves the ``clock`` fixture to be anywhere else.
TEST_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[FixedClock]:
    """The clock the app reads during the test, standing at ``TEST_NOW`` until the test moves it;
    the system clock is back once the test ends."""
    fixed = FixedClock(TEST_NOW)
    with using(fixed):
        yield fixed


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """argon2 at its cheapest in tests, where hashes protect nothing; sign-in code paths are unchanged."""
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]


def _schema_digest() -> str:
    """What a migrated database depends on: the migrations, the code that runs them, and the
    versions of the libraries that write their DDL."""
    package = Path(openbwv.__file__).parent
    digest = hashlib.sha256(f"{alembic.__version__} {sqlalchemy.__version__}".encode())
    for path in sorted([*(package / "migrations").rglob("*.py"), package / "migrate.py", package / "db.py"]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies. It is kept between runs, under the digest of
    what it was migrated from: mutation testing starts a pytest session for every mutant, and
    migrating took about 2 s of each."""
    kept = Path(tempfile.gettempdir()) / f"openbwv-test-template-{_schema_digest()}.sqlite3"
    if not kept.exists():
        path = tmp_path_factory.mktemp("template") / "openbwv.sqlite3"
        upgrade(f"sqlite:///{path}")
        # Copied under a name of its own and renamed: a run starting meanwhile sees all of it or none.
        partial = kept.with_name(f"{kept.name}.{uuid.uuid4().hex}")
        shutil.copyfile(path, partial)
        os.replace(partial, kept)
    return kept


POSTGRES_PROBLEM = _postgres_reachable()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    if POSTGRES_PROBLEM:
        # Outside CI the PostgreSQL parameter is skipped (``NEEDS_POSTGRES``) and never gets here.
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required under CI: {POSTGRES_PROBLEM}")
    schema = f"openbwv_test_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade(url)
    _remember_seeded_rows(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


# Seeded tables the force may change (categories and misuse thresholds through the API): each test
# starts from the rows the migrations seeded, read once the schema is migrated.
WRITABLE_SEEDED_TABLES = ("footage_category", "audit_rule_threshold")
_seeded_rows: dict[str, dict[str, list[dict[str, object]]]] = {}


def _remember_seeded_rows(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        _seeded_rows[url] = {
            table: [dict(row) for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()]
            for table in WRITABLE_SEEDED_TABLES
        }
    engine.dispose()


def _emptied_tables() -> list[str]:
    """Every table a test may write, children before parents (read once every model is loaded)."""
    return [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in SEEDED_TABLES]


_owned_sequences: dict[str, list[str]] = {}


def _sequences_of_emptied_tables(connection: Connection, url: str) -> list[str]:
    if url not in _owned_sequences:
        found = connection.execute(
            text(
                "SELECT DISTINCT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' "
                "AND s.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)"
            ),
            {"tables": [*_emptied_tables(), *JOB_TABLES]},
        )
        _owned_sequences[url] = list(found.scalars())
    return _owned_sequences[url]


def _empty_postgres(engine: Engine, url: str) -> None:
    """Delete every row a test may have left, children first, and start the ids again, as
    ``TRUNCATE … RESTART IDENTITY`` would: a test leaves a handful of rows, and truncating some
    seventy tables (a new file for each) took about half a second a test."""
    with engine.begin() as connection:
        for table in (*JOB_TABLES, *_emptied_tables()):
            connection.execute(text(f"DELETE FROM {table}"))
        sequences = _sequences_of_emptied_tables(connection, url)
        connection.execute(
            text("SELECT setval(s::regclass, 1, false) FROM unnest(CAST(:s AS text[])) AS s"),
            {"s": sequences},
        )
        for table, rows in _seeded_rows[url].items():
            connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(Base.metadata.tables[table].insert(), rows)


# Outside CI a missing PostgreSQL skips the PostgreSQL half; under CI it fails the run.
NEEDS_POSTGRES = pytest.mark.skipif(
    bool(POSTGRES_PROBLEM) and not IN_CI, reason=f"PostgreSQL not reachable: {POSTGRES_PROBLEM}"
)
# For a test about PostgreSQL alone: ``@ON_POSTGRES_ONLY`` gives it the one ``database_url``.
ON_POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=NEEDS_POSTGRES)], indirect=True
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=NEEDS_POSTGRES)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "openbwv.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    yield url
    engine = make_engine(url)
    _empty_postgres(engine, url)
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def db(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service tests; what it flushes is visible to it, and it is rolled back after."""
    session = factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    # No background jobs: a test runs each job it is about explicitly, so nothing changes under it.
    with TestClient(
        create_app(settings, factory, jobs=JobRegistry()), base_url="https://testserver"
    ) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback with one bucket; ``AWS_*`` point at it for the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT")).close()
        yield endpoint
    server.stop()
