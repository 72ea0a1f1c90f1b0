"""The log's API contract for outside verifiers: shapes, proofs that verify, public flags and limits."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.audit import note, verify
from openbwv.audit.models import AuditTreeNode
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.policy import Permission, RequirePermissionUnlessPublic, Role
from tests.audit.helpers import publish, record_events
from tests.builders import headers_for


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


@pytest.fixture
def log_of_nine(factory: sessionmaker[Session], settings: Settings) -> list[int]:
    """Checkpoints at sizes 4 and 9 (plus whatever the fixture's users add before)."""
    record_events(factory, 4)
    first = publish(factory, settings).tree_size
    record_events(factory, 5)
    return [first, publish(factory, settings).tree_size]


def client_with(settings: Settings, factory: sessionmaker[Session], **flags: bool) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=flags), factory, jobs=JobRegistry())
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def private_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from client_with(settings, factory, audit_public_checkpoints=False)


@pytest.fixture
def open_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from client_with(settings, factory, audit_public_entries=True)


class TestCheckpoint:
    def test_anyone_gets_the_latest_signed_checkpoint_by_default(
        self, client: TestClient, log_of_nine: list[int]
    ) -> None:
        response = client.get("/api/v1/audit/checkpoint")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"tree_size", "root_hash", "timestamp", "note", "verifier_key"}
        assert body["tree_size"] == log_of_nine[-1]
        opened = note.open_note(body["note"], [note.Ed25519Verifier.from_vkey(body["verifier_key"])])
        checkpoint = note.parse_checkpoint(opened.text)
        assert checkpoint.origin == "openbwv.local/audit"
        assert body["verifier_key"].startswith("openbwv.local/audit+")
        assert (checkpoint.tree_size, checkpoint.root_hash) == (body["tree_size"], b64(body["root_hash"]))
        assert body["note"].split("\n")[:3] == [
            checkpoint.origin,
            str(checkpoint.tree_size),
            body["root_hash"],
        ]
        assert body["note"].split("\n")[4].startswith("\N{EM DASH} openbwv.local/audit ")

    def test_a_past_checkpoint_by_size(self, client: TestClient, log_of_nine: list[int]) -> None:
        body = client.get("/api/v1/audit/checkpoint", params={"tree_size": log_of_nine[0]}).json()
        assert body["tree_size"] == log_of_nine[0]

    def test_a_size_never_signed_is_404(self, client: TestClient, log_of_nine: list[int]) -> None:
        response = client.get("/api/v1/audit/checkpoint", params={"tree_size": log_of_nine[0] + 1})
        assert response.status_code == 404
        assert response.json()["detail"] == f"No such checkpoint for tree size {log_of_nine[0] + 1}."

    def test_before_any_checkpoint_is_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/audit/checkpoint").status_code == 404

    def test_when_the_force_closes_it_anonymous_is_401_and_auditors_still_read_it(
        self, private_client: TestClient, factory: sessionmaker[Session], log_of_nine: list[int]
    ) -> None:
        assert private_client.get("/api/v1/audit/checkpoint").status_code == 401
        officer = headers_for(factory, Role.OFFICER)
        assert private_client.get("/api/v1/audit/checkpoint", headers=officer).status_code == 403
        auditor = headers_for(factory, Role.AUDITOR)
        assert private_client.get("/api/v1/audit/checkpoint", headers=auditor).status_code == 200


class TestPublicDependency:
    def test_only_a_boolean_setting_can_open_a_route(self) -> None:
        with pytest.raises(ValueError, match="force_name is not a boolean setting"):
            RequirePermissionUnlessPublic(Permission.AUDIT_EVENT_READ, "force_name")


class TestEntries:
    def test_anonymous_is_401_by_default(self, client: TestClient, log_of_nine: list[int]) -> None:
        assert client.get("/api/v1/audit/entries", params={"start": 0, "end": 2}).status_code == 401

    def test_auditor_gets_leaves_in_order_with_the_bytes_that_were_hashed(
        self, client: TestClient, factory: sessionmaker[Session], log_of_nine: list[int]
    ) -> None:
        size = log_of_nine[-1]
        headers = headers_for(factory, Role.AUDITOR)
        entries = client.get(
            "/api/v1/audit/entries", params={"start": 0, "end": size}, headers=headers
        ).json()["entries"]
        assert [e["leaf_index"] for e in entries] == list(range(size))
        checkpoint = client.get("/api/v1/audit/checkpoint").json()
        hashes = [verify.leaf_hash(b64(e["leaf_b64"])) for e in entries]
        assert verify.root_from_leaf_hashes(hashes) == b64(checkpoint["root_hash"])
        last = entries[-1]
        assert last["action"] == "people:officer:updated" and last["actor_username"] == "asmith"
        assert last["details"] == {"n": 4} and last["reason"] == "Correcting record 4"
        assert {"event_id", "occurred_at", "target_type", "target_id", "client_address", "request_id"} <= set(
            last
        )

    def test_the_end_is_cut_to_the_log(self, open_client: TestClient, log_of_nine: list[int]) -> None:
        size = log_of_nine[-1]
        response = open_client.get("/api/v1/audit/entries", params={"start": size - 2, "end": size + 50})
        assert [e["leaf_index"] for e in response.json()["entries"]] == [size - 2, size - 1]

    @pytest.mark.parametrize(
        ("start", "end", "field", "message"),
        [
            (0, 1001, "end", "at most 1000 entries a call"),
            (5, 5, "end", "must be greater than start"),
            (10_000, 10_001, "start", "the log has"),
        ],
    )
    def test_bad_ranges_are_422_with_a_reason(
        self, open_client: TestClient, log_of_nine: list[int], start: int, end: int, field: str, message: str
    ) -> None:
        response = open_client.get("/api/v1/audit/entries", params={"start": start, "end": end})
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"][-1] == field and message in error["msg"]

    def test_negative_start_is_422(self, open_client: TestClient) -> None:
        assert open_client.get("/api/v1/audit/entries", params={"start": -1, "end": 3}).status_code == 422


class TestInclusionProof:
    def test_every_leaf_proves_into_every_signed_tree(
        self, open_client: TestClient, log_of_nine: list[int]
    ) -> None:
        entries = open_client.get("/api/v1/audit/entries", params={"start": 0, "end": 100}).json()["entries"]
        for size in log_of_nine:
            root = b64(
                open_client.get("/api/v1/audit/checkpoint", params={"tree_size": size}).json()["root_hash"]
            )
            for entry in entries[:size]:
                body = open_client.get(
                    "/api/v1/audit/proof/inclusion",
                    params={"leaf_index": entry["leaf_index"], "tree_size": size},
                ).json()
                assert set(body) == {"leaf_index", "tree_size", "audit_path"}
                path = [b64(h) for h in body["audit_path"]]
                leaf = verify.leaf_hash(b64(entry["leaf_b64"]))
                assert verify.verify_inclusion(leaf, entry["leaf_index"], size, path, root)

    def test_tree_size_defaults_to_the_latest_checkpoint(
        self, client: TestClient, log_of_nine: list[int]
    ) -> None:
        body = client.get("/api/v1/audit/proof/inclusion", params={"leaf_index": 0}).json()
        assert body["tree_size"] == log_of_nine[-1]

    @pytest.mark.parametrize(
        ("offset", "field", "message"),
        [(0, "leaf_index", "must be below the tree size"), (1, "tree_size", "no checkpoint covers")],
    )
    def test_out_of_range_is_422_with_a_reason(
        self, client: TestClient, log_of_nine: list[int], offset: int, field: str, message: str
    ) -> None:
        size = log_of_nine[-1]
        params = {"leaf_index": size, "tree_size": size + offset}
        response = client.get("/api/v1/audit/proof/inclusion", params=params)
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"][-1] == field and message in error["msg"]

    def test_before_any_checkpoint_is_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/audit/proof/inclusion", params={"leaf_index": 0}).status_code == 404

    def test_closed_to_anonymous_with_the_checkpoints(
        self, private_client: TestClient, log_of_nine: list[int]
    ) -> None:
        assert (
            private_client.get("/api/v1/audit/proof/inclusion", params={"leaf_index": 0}).status_code == 401
        )


class TestIncompleteTree:
    def test_a_proof_needing_a_node_no_longer_stored_is_409_naming_the_node(
        self, client: TestClient, factory: sessionmaker[Session], log_of_nine: list[int]
    ) -> None:
        assert log_of_nine == [4, 9]
        with transaction(factory) as db:
            db.execute(delete(AuditTreeNode).where(AuditTreeNode.level == 2, AuditTreeNode.idx == 1))
        refusal = {
            "rule": "audit_log_incomplete",
            "message": "The stored log tree is incomplete (node (2, 1) (level, index) is not stored); "
            "run `openbwv audit verify`.",
        }
        inclusion = client.get("/api/v1/audit/proof/inclusion", params={"leaf_index": 0, "tree_size": 9})
        assert (inclusion.status_code, inclusion.json()["detail"]) == (409, refusal)
        consistency = client.get("/api/v1/audit/proof/consistency", params={"first": 4, "second": 9})
        assert (consistency.status_code, consistency.json()["detail"]) == (409, refusal)
        # Only what needs the missing node is refused: the signed checkpoint and other proofs stand.
        assert client.get("/api/v1/audit/checkpoint").json()["tree_size"] == 9
        other = client.get("/api/v1/audit/proof/inclusion", params={"leaf_index": 8, "tree_size": 9})
        assert (other.status_code, len(other.json()["audit_path"])) == (200, 1)


class TestConsistencyProof:
    def test_every_pair_of_signed_trees_is_consistent(
        self, client: TestClient, log_of_nine: list[int]
    ) -> None:
        roots = {
            size: b64(client.get("/api/v1/audit/checkpoint", params={"tree_size": size}).json()["root_hash"])
            for size in log_of_nine
        }
        for first in log_of_nine:
            for second in log_of_nine:
                if first > second:
                    continue
                params = {"first": first, "second": second}
                body = client.get("/api/v1/audit/proof/consistency", params=params).json()
                assert body["first"] == first and body["second"] == second
                proof = [b64(h) for h in body["consistency"]]
                assert verify.verify_consistency(first, second, roots[first], roots[second], proof)

    @pytest.mark.parametrize(
        ("first", "second", "field"), [(0, 4, "first"), (5, 4, "first"), (1, 10_000, "second")]
    )
    def test_impossible_sizes_are_422(
        self, client: TestClient, log_of_nine: list[int], first: int, second: int, field: str
    ) -> None:
        response = client.get("/api/v1/audit/proof/consistency", params={"first": first, "second": second})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] == field
