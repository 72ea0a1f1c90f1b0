from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from openbwv.db import make_engine, session_slots
from openbwv.observability import JsonFormatter
from tests.conftest import ON_POSTGRES_ONLY

INSERT = text(
    "INSERT INTO user_account (username, display_name, password_hash, is_active, created_at) "
    "VALUES (:username, 'Someone', :password_hash, true, CURRENT_TIMESTAMP)"
)


class TestMakeEngine:
    def test_a_failed_insert_logs_no_parameter_value(
        self, engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        secret = "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash"
        with engine.begin() as connection:
            connection.execute(INSERT, {"username": "twice", "password_hash": "first"})
        log = logging.getLogger("openbwv.test")
        with engine.begin() as connection, pytest.raises(IntegrityError) as failure:
            try:
                connection.execute(INSERT, {"username": "twice", "password_hash": secret})
            except IntegrityError:
                log.exception("insert failed")
                raise
        logged = JsonFormatter().format(caplog.records[-1])
        assert "insert failed" in logged and "user_account" in logged
        assert secret not in logged
        assert secret not in str(failure.value)


class TestPoolSize:
    # SQLite ignores the pool size: this test exists on PostgreSQL only.
    @ON_POSTGRES_ONLY
    def test_postgresql_keeps_the_pool_size_open_and_may_open_twice_as_many_more(
        self, database_url: str
    ) -> None:
        engine = make_engine(database_url, pool_size=5)
        assert isinstance(engine.pool, QueuePool)
        assert (engine.pool.size(), engine.pool._max_overflow) == (5, 10)
        engine.dispose()

    @pytest.mark.parametrize(("connections", "slots"), [(3, 2), (6, 4), (15, 10), (30, 25), (150, 145)])
    def test_request_sessions_leave_connections_for_caller_lookups(
        self, connections: int, slots: int
    ) -> None:
        assert session_slots(connections) == slots
