from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit.models import AuditEvent
from openbwv.auth import LoginPolicy, disable_user, passwords, sign_in
from openbwv.auth.models import LoginFailure
from openbwv.db import transaction
from openbwv.errors import Unauthenticated
from openbwv.policy import SYSTEM
from tests.builders import DEFAULT_PASSWORD, make_user

POLICY = LoginPolicy(
    max_failures_per_account=5,
    max_failures_per_address=20,
    lockout=timedelta(minutes=15),
    token_ttl=timedelta(hours=1),
    secret_key=b"test-secret",
)


class CountingHasher(PasswordHasher):
    """The tests' cheap hasher, counting argon2 runs and the connections checked out during each."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.engine = engine
        self.runs: list[str] = []
        self.connections_in_use: list[int] = []

    def _count(self, what: str) -> None:
        self.runs.append(what)
        self.connections_in_use.append(self.engine.pool.checkedout())  # type: ignore[attr-defined]

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._count("hash")
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self._count("verify")
        return super().verify(hash, password)


@pytest.fixture
def hasher(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher(engine)
    monkeypatch.setattr(passwords, "_hasher", counting)
    passwords.verify_password(None, "warm up: the dummy hash is made once")
    yield counting


def _attempt(factory: sessionmaker[Session], username: str, password: str) -> str:
    try:
        sign_in(factory, username=username, password=password, address="192.0.2.1", kind="api", policy=POLICY)
    except Unauthenticated:
        return "refused"
    return "signed in"


class TestSignIn:
    @pytest.mark.parametrize(
        ("username", "password", "outcome"),
        [
            ("nobody", DEFAULT_PASSWORD, "refused"),
            ("disabled", DEFAULT_PASSWORD, "refused"),
            ("active", "wrong password", "refused"),
            ("active", DEFAULT_PASSWORD, "signed in"),
        ],
    )
    def test_every_answer_checks_one_password_with_no_transaction_open(
        self,
        factory: sessionmaker[Session],
        hasher: CountingHasher,
        username: str,
        password: str,
        outcome: str,
    ) -> None:
        """An unknown or disabled account takes as long as a wrong password: one argon2 run each, and
        no database connection is held while it runs."""
        with transaction(factory) as db:
            make_user(db, username="active")
            make_user(db, username="disabled")
            disable_user(db, SYSTEM, username="disabled")
        hasher.runs.clear()
        hasher.connections_in_use.clear()
        assert _attempt(factory, username, password) == outcome
        assert hasher.runs == ["verify"]
        assert hasher.connections_in_use == [0]

    def test_a_name_that_matches_no_account_is_kept_only_as_a_keyed_hash(
        self, factory: sessionmaker[Session]
    ) -> None:
        typed = "Tr0ub4dor&3-typed-in-the-wrong-box"
        with transaction(factory) as db:
            make_user(db, username="known")
        assert _attempt(factory, typed, "x") == "refused"
        assert _attempt(factory, "known", "wrong") == "refused"
        with factory() as db:
            events = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth:login:failed")).all()
            failures = db.scalars(select(LoginFailure.username)).all()
        kept = [str((e.actor_username, e.target_id, e.details)) for e in events] + list(failures)
        assert not any(typed.lower() in text for text in kept)
        assert [e.target_id for e in events][1] == "known"
        assert str(events[0].target_id).startswith("unknown:")
        assert "known" not in failures

    def test_the_keyed_hash_depends_on_the_secret_key(self, factory: sessionmaker[Session]) -> None:
        """Without the key, a guess at what was typed cannot be checked against the audit log."""
        other = LoginPolicy(**{**POLICY.__dict__, "secret_key": b"another key"})
        for policy in (POLICY, other):
            with pytest.raises(Unauthenticated):
                sign_in(
                    factory, username="same", password="x", address="192.0.2.1", kind="api", policy=policy
                )
        with factory() as db:
            targets = db.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == "auth:login:failed")
            ).all()
        assert len(set(targets)) == 2
