"""Sequencing events into the log and signing checkpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import canonical, log, merkle, note, verify
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditPending, AuditTreeNode
from openbwv.config import ConfigError, Settings
from openbwv.db import transaction
from openbwv.errors import Conflict
from tests.audit.helpers import ACTOR, publish, record_events, stored_leaves, typed_leaf_hashes
from tests.conftest import ON_POSTGRES_ONLY


class TestSequence:
    def test_gives_contiguous_leaves_in_event_order_whose_root_verifies(
        self, factory: sessionmaker[Session]
    ) -> None:
        ids = record_events(factory, 23)
        assert log.sequence(factory) == 23
        with factory() as db:
            leaves = stored_leaves(db)
            assert [index for index, _, _ in leaves] == list(range(23))
            assert [event_id for _, event_id, _ in leaves] == ids
            assert [digest for _, _, digest in leaves] == typed_leaf_hashes(db, ids)
            fetch = log.node_fetcher(db)
            root = merkle.root_hash(23, 23, fetch)
            assert root == verify.root_from_leaf_hashes([digest for _, _, digest in leaves])
            assert db.scalar(select(func.count()).select_from(AuditPending)) == 0

    def test_is_idempotent(self, factory: sessionmaker[Session]) -> None:
        record_events(factory, 3)
        assert log.sequence(factory) == 3
        assert log.sequence(factory) == 0

    def test_small_batches_build_the_same_tree(self, factory: sessionmaker[Session]) -> None:
        record_events(factory, 11)
        assert log.sequence(factory, batch_size=3) == 11
        record_events(factory, 6)
        assert log.sequence(factory, batch_size=4, max_batches=1) == 4
        assert log.sequence(factory, batch_size=4) == 2
        with factory() as db:
            leaves = [digest for _, _, digest in stored_leaves(db)]
            assert len(leaves) == 17
            assert merkle.root_hash(17, 17, log.node_fetcher(db)) == verify.root_from_leaf_hashes(leaves)
            # Level 0 lives in audit_leaf; the node table holds the complete subtrees above it.
            assert db.scalar(select(func.count()).select_from(AuditTreeNode)) == 8 + 4 + 2 + 1

    def test_driver_types_give_the_same_bytes_as_orm_types(self, factory: sessionmaker[Session]) -> None:
        details: dict[str, object] = {
            "z": [3, 1, {"b": None, "a": True}],
            "é": 'ünïcode \N{EM DASH} \u2028 "quoted" \\ \n',
            "nested": {"y": 2, "x": -1, "empty": {}},
        }
        cases: list[tuple[str | None, dict[str, object]]] = [
            ("a", details),
            (None, {}),
            ("\u00e9t\u00e9 \U0001f4f7", {"n": 10**15}),
        ]
        with transaction(factory) as db:
            for reason, data in cases:
                audit.record(
                    db, actor=ACTOR, action=audit.AuditAction.AUTH_LOGIN_FAILED, reason=reason, details=data
                )
        log.sequence(factory)
        with factory() as db:
            leaves = stored_leaves(db)
            assert [digest for _, _, digest in leaves] == typed_leaf_hashes(db, [e for _, e, _ in leaves])

    def test_canonical_bytes_are_sorted_compact_utf8_json(self) -> None:
        event = {
            "id": 5,
            "occurred_at": datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
            "actor_username": "asmith",
            "actor_user_id": None,
            "action": "auth:login:failed",
            "target_type": None,
            "target_id": None,
            "reason": "caf\u00e9",
            "details": {"b": 1, "a": [2]},
            "client_address": "10.0.0.1",
            "request_id": None,
        }
        assert (
            canonical.leaf_bytes(event)
            == (
                '{"action":"auth:login:failed","actor_user_id":null,"actor_username":"asmith",'
                '"client_address":"10.0.0.1","details":{"a":[2],"b":1},"format":"openbwv-audit-event/1",'
                '"id":5,"occurred_at":"2026-11-26T09:30:00.000000Z","reason":"caf\u00e9","request_id":null,'
                '"target_id":null,"target_type":null}'
            ).encode()
        )


class TestConcurrentWriters:
    @ON_POSTGRES_ONLY
    def test_an_event_that_commits_after_a_later_id_still_gets_a_leaf(
        self, factory: sessionmaker[Session]
    ) -> None:
        slow = factory()
        early = audit.record(slow, actor=ACTOR, action=audit.AuditAction.AUTH_LOGOUT)
        slow.flush()
        (late_id,) = record_events(factory, 1)
        assert early.id < late_id
        assert log.sequence(factory) == 1
        slow.commit()
        slow.close()
        assert log.sequence(factory) == 1
        with factory() as db:
            assert [event_id for _, event_id, _ in stored_leaves(db)] == [late_id, early.id]

    def test_sequencers_running_at_once_add_each_event_exactly_once(
        self, factory: sessionmaker[Session]
    ) -> None:
        ids = record_events(factory, 60)
        added: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                added.append(log.sequence(factory, batch_size=7))
            except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sum(added) == 60
        with factory() as db:
            leaves = stored_leaves(db)
            assert [index for index, _, _ in leaves] == list(range(60))
            assert sorted(event_id for _, event_id, _ in leaves) == ids


class TestPublishCheckpoint:
    def test_signs_the_current_tree_as_a_c2sp_checkpoint(
        self, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        record_events(factory, 5)
        checkpoint = publish(factory, settings)
        opened = note.open_note(checkpoint.note, [note.Ed25519Verifier.from_vkey(log.verifier_key(settings))])
        body = note.parse_checkpoint(opened.text)
        assert (body.origin, body.tree_size, body.root_hash) == (
            "openbwv.local/audit",
            5,
            checkpoint.root_hash,
        )
        with factory() as db:
            leaves = [digest for _, _, digest in stored_leaves(db)]
        assert checkpoint.root_hash == verify.root_from_leaf_hashes(leaves)

    def test_publishes_nothing_new_until_the_tree_grows_and_keeps_old_ones(
        self, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        assert publish(factory, settings).tree_size == 0
        record_events(factory, 2)
        assert publish(factory, settings).tree_size == 2
        assert log.sequence_and_checkpoint(factory, settings) is None
        record_events(factory, 1)
        assert publish(factory, settings).tree_size == 3
        with factory() as db:
            assert db.scalars(
                select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)
            ).all() == [0, 2, 3]

    def test_refuses_to_sign_a_tree_that_no_longer_extends_the_last_checkpoint(
        self, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        record_events(factory, 4)
        publish(factory, settings)
        with transaction(factory) as db:
            db.execute(
                update(AuditTreeNode)
                .where(AuditTreeNode.level == 2, AuditTreeNode.idx == 0)
                .values(hash=b"\x00" * 32)
            )
        record_events(factory, 1)
        with pytest.raises(Conflict) as refused:
            log.sequence_and_checkpoint(factory, settings)
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "audit_log_inconsistent",
            "The stored log no longer extends checkpoint 4; no new checkpoint is signed. "
            "Run `openbwv audit verify`.",
        )
        with factory() as db:
            assert db.scalars(select(AuditCheckpoint.tree_size)).all() == [4]
            assert log.current_size(db) == 5, "the new event is in the log, waiting for a checkpoint"

    def test_refuses_to_sign_a_tree_missing_a_stored_node_and_names_the_node(
        self, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        record_events(factory, 5)
        assert log.sequence(factory) == 5
        with transaction(factory) as db:
            db.execute(delete(AuditTreeNode).where(AuditTreeNode.level == 2, AuditTreeNode.idx == 0))
        with pytest.raises(Conflict) as refused:
            log.publish_checkpoint(factory, settings)
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "audit_log_incomplete",
            "The stored log tree is incomplete: node (2, 0) (level, index) is not stored.",
        )
        with factory() as db:
            assert db.scalars(select(AuditCheckpoint)).all() == []

    def test_the_key_is_made_once_private_and_reused(self, settings: Settings) -> None:
        first = log.verifier_key(settings)
        key_file = settings.data_dir / log.KEY_FILE
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text().startswith("PRIVATE+KEY+openbwv.local/audit+")
        log._load_or_create_key.cache_clear()
        assert log.verifier_key(settings) == first

    def test_a_key_for_another_origin_is_a_configuration_error(self, settings: Settings) -> None:
        log.verifier_key(settings)
        other = settings.model_copy(update={"audit_log_origin": "police.example/audit"})
        with pytest.raises(ConfigError, match="OPENBWV_AUDIT_LOG_ORIGIN"):
            log.verifier_key(other)


class TestQueue:
    def test_an_event_inserted_without_the_orm_is_queued_too(self, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            db.execute(
                insert(AuditEvent),
                [
                    {
                        "occurred_at": datetime(2026, 11, 26, tzinfo=UTC),
                        "actor_username": "import",
                        "action": "people:officer:created",
                        "details": {},
                    }
                ]
                * 2,
            )
        assert log.sequence(factory) == 2

    def test_the_queue_is_only_the_backlog(self, factory: sessionmaker[Session]) -> None:
        record_events(factory, 4)
        with factory() as db:
            assert db.scalar(text("SELECT count(*) FROM audit_pending")) == 4
        log.sequence(factory)
        with factory() as db:
            assert db.scalar(text("SELECT count(*) FROM audit_pending")) == 0
