"""Tree building and proof generation, checked against the transparency-dev/merkle reference vectors."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from openbwv.audit import merkle
from openbwv.audit.merkle import MemoryStore, MissingNodeError, NodeId, ProofRequestError

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "merkle_reference.json").read_text()
)
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
NODE_HASHES = {
    (level, index): bytes.fromhex(digest)
    for level, hashes in enumerate(VECTORS["node_hashes"])
    for index, digest in enumerate(hashes)
}
ROOTS = [bytes.fromhex(root) for root in VECTORS["roots"]]


def reference_store() -> MemoryStore:
    store = MemoryStore()
    store.append(merkle.leaf_hash(leaf) for leaf in LEAVES)
    return store


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [digest.hex() for digest in hashes]


class CountingFetch:
    """A FetchNodes that records each batch it is asked for."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.batches: list[list[NodeId]] = []

    def __call__(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        self.batches.append(list(ids))
        return self.store.get_nodes(ids)


class TestLeafHash:
    def test_matches_reference_leaf_hashes(self) -> None:
        assert [merkle.leaf_hash(leaf) for leaf in LEAVES] == [NODE_HASHES[0, i] for i in range(8)]

    def test_is_domain_separated_from_interior_nodes(self) -> None:
        left, right = NODE_HASHES[0, 0], NODE_HASHES[0, 1]
        assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


class TestNodeHash:
    @pytest.mark.parametrize(("level", "index"), [(1, 0), (1, 3), (2, 1), (3, 0)])
    def test_matches_reference_interior_nodes(self, level: int, index: int) -> None:
        left, right = NODE_HASHES[level - 1, 2 * index], NODE_HASHES[level - 1, 2 * index + 1]
        assert merkle.node_hash(left, right) == NODE_HASHES[level, index]


class TestAppendLeaves:
    def test_one_leaf_at_a_time_emits_exactly_the_reference_nodes(self) -> None:
        size, emitted = 0, []
        frontier: tuple[bytes, ...] = ()
        for leaf in LEAVES:
            result = merkle.append_leaves(size, frontier, [merkle.leaf_hash(leaf)])
            size, frontier = result.size, result.frontier
            emitted.extend(result.nodes)
        assert {(level, index): digest for level, index, digest in emitted} == NODE_HASHES
        assert len(emitted) == len(NODE_HASHES)

    def test_frontier_and_root_after_each_size(self) -> None:
        size = 0
        frontier: tuple[bytes, ...] = ()
        for leaf in LEAVES:
            result = merkle.append_leaves(size, frontier, [merkle.leaf_hash(leaf)])
            size, frontier = result.size, result.frontier
            assert list(frontier) == [NODE_HASHES[node] for node in merkle.frontier_nodes(size)]
            assert result.root == ROOTS[size]

    @pytest.mark.parametrize("split", range(9))
    def test_batches_give_the_same_nodes_as_single_appends(self, split: int) -> None:
        hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]
        first = merkle.append_leaves(0, (), hashes[:split])
        second = merkle.append_leaves(first.size, first.frontier, hashes[split:])
        assert {(level, index): digest for level, index, digest in first.nodes + second.nodes} == NODE_HASHES
        assert second.size == 8
        assert second.root == ROOTS[8]

    def test_nodes_arrive_in_index_order_within_each_level(self) -> None:
        rng = random.Random(5)
        result = merkle.append_leaves(0, (), [rng.randbytes(32) for _ in range(300)])
        for level in range(9):
            indices = [index for node_level, index, _ in result.nodes if node_level == level]
            assert indices == list(range(300 >> level))

    def test_empty_batch_changes_nothing(self) -> None:
        result = merkle.append_leaves(3, (NODE_HASHES[1, 0], NODE_HASHES[0, 2]), [])
        assert (result.size, result.nodes, result.root) == (3, [], ROOTS[3])

    def test_rejects_frontier_of_the_wrong_length(self) -> None:
        with pytest.raises(ValueError, match="frontier"):
            merkle.append_leaves(3, (NODE_HASHES[2, 0],), [NODE_HASHES[0, 3]])

    def test_rejects_leaf_hash_of_the_wrong_length(self) -> None:
        with pytest.raises(ValueError, match="leaf hash for index 1"):
            merkle.append_leaves(0, (), [NODE_HASHES[0, 0], b"short"])

    def test_rejects_negative_size(self) -> None:
        with pytest.raises(ValueError):
            merkle.append_leaves(-1, (), [])


class TestFrontierNodes:
    @pytest.mark.parametrize(
        ("size", "expected"),
        [
            (0, []),
            (1, [(0, 0)]),
            (6, [(2, 0), (1, 2)]),
            (7, [(2, 0), (1, 2), (0, 6)]),
            (8, [(3, 0)]),
            (1_000_000, [(19, 0), (18, 2), (17, 6), (16, 14), (14, 60), (9, 1952), (6, 15624)]),
        ],
    )
    def test_lists_complete_subtrees_largest_first(self, size: int, expected: list[NodeId]) -> None:
        assert merkle.frontier_nodes(size) == expected

    def test_rejects_negative_size(self) -> None:
        with pytest.raises(ProofRequestError):
            merkle.frontier_nodes(-1)


class TestFrontierRoot:
    @pytest.mark.parametrize("size", range(9))
    def test_folds_into_the_reference_root(self, size: int) -> None:
        frontier = [NODE_HASHES[node] for node in merkle.frontier_nodes(size)]
        assert merkle.frontier_root(frontier) == ROOTS[size]


class TestRootHash:
    @pytest.mark.parametrize("size", range(9))
    def test_every_size_matches_the_reference_root(self, size: int) -> None:
        store = reference_store()
        assert merkle.root_hash(size, store.size, store.get_nodes) == ROOTS[size]

    def test_empty_tree_is_the_hash_of_nothing_and_needs_no_lookup(self) -> None:
        fetch = CountingFetch(MemoryStore())
        assert merkle.root_hash(0, 0, fetch).hex() == (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        assert fetch.batches == []

    @pytest.mark.parametrize("size", [-1, 9])
    def test_rejects_sizes_the_log_does_not_have(self, size: int) -> None:
        store = reference_store()
        with pytest.raises(ProofRequestError):
            merkle.root_hash(size, store.size, store.get_nodes)

    def test_missing_node_is_reported(self) -> None:
        with pytest.raises(MissingNodeError, match=r"\(1, 2\)"):
            merkle.root_hash(7, 7, lambda ids: {node: NODE_HASHES[node] for node in ids if node != (1, 2)})


class TestAssembleRoot:
    def test_uses_only_the_listed_nodes(self) -> None:
        nodes = {node: NODE_HASHES[node] for node in merkle.root_nodes(7)}
        assert merkle.assemble_root(7, nodes) == ROOTS[7]


class TestInclusionProofNodes:
    @pytest.mark.parametrize(
        "case", VECTORS["inclusion_proof_nodes"], ids=lambda c: f"{c['leaf_index']}@{c['tree_size']}"
    )
    def test_matches_reference_node_sets(self, case: dict[str, Any]) -> None:
        nodes = merkle.inclusion_proof_nodes(case["leaf_index"], case["tree_size"])
        assert len(nodes) == len(set(nodes))
        assert set(nodes) == {tuple(node) for node in case["nodes"]}

    @pytest.mark.parametrize(
        "case", VECTORS["inclusion_proof_node_errors"], ids=lambda c: f"{c['leaf_index']}@{c['tree_size']}"
    )
    def test_rejects_reference_error_cases(self, case: dict[str, Any]) -> None:
        with pytest.raises(ProofRequestError):
            merkle.inclusion_proof_nodes(case["leaf_index"], case["tree_size"])

    def test_needs_logarithmically_many_nodes(self) -> None:
        size = 1_000_003
        worst = max(len(merkle.inclusion_proof_nodes(index, size)) for index in range(0, size, 9973))
        assert worst <= 2 * size.bit_length()

    def test_rejects_negative_index(self) -> None:
        with pytest.raises(ProofRequestError):
            merkle.inclusion_proof_nodes(-1, 5)


class TestAssembleInclusionProof:
    def test_builds_proof_from_exactly_the_listed_nodes(self) -> None:
        nodes = {node: NODE_HASHES[node] for node in merkle.inclusion_proof_nodes(2, 7)}
        expected = [
            NODE_HASHES[0, 3],
            NODE_HASHES[1, 0],
            merkle.node_hash(NODE_HASHES[1, 2], NODE_HASHES[0, 6]),
        ]
        assert merkle.assemble_inclusion_proof(2, 7, nodes) == expected

    def test_missing_node_is_reported(self) -> None:
        nodes = {node: NODE_HASHES[node] for node in merkle.inclusion_proof_nodes(2, 7) if node != (0, 6)}
        with pytest.raises(MissingNodeError):
            merkle.assemble_inclusion_proof(2, 7, nodes)


class TestInclusionProof:
    @pytest.mark.parametrize(
        "case", VECTORS["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}@{c['tree_size']}"
    )
    def test_matches_reference_proofs(self, case: dict[str, Any]) -> None:
        store = reference_store()
        proof = merkle.inclusion_proof(case["leaf_index"], case["tree_size"], store.size, store.get_nodes)
        assert hexes(proof) == case["proof"]

    def test_uses_one_batched_lookup(self) -> None:
        rng = random.Random(3)
        store = MemoryStore()
        store.append(rng.randbytes(32) for _ in range(1000))
        fetch = CountingFetch(store)
        merkle.inclusion_proof(421, 999, store.size, fetch)
        assert len(fetch.batches) == 1
        assert fetch.batches[0] == merkle.inclusion_proof_nodes(421, 999)

    def test_proof_for_a_past_size_does_not_depend_on_later_leaves(self) -> None:
        case = VECTORS["inclusion_proofs"][4]
        store = reference_store()
        store.append([bytes(32)] * 100)
        proof = store.inclusion_proof(case["leaf_index"], case["tree_size"])
        assert (case["tree_size"], hexes(proof)) == (5, case["proof"])

    @pytest.mark.parametrize(("index", "size"), [(8, 8), (0, 0), (0, 9), (-1, 8)])
    def test_rejects_out_of_range_requests(self, index: int, size: int) -> None:
        store = reference_store()
        with pytest.raises(ProofRequestError):
            merkle.inclusion_proof(index, size, store.size, store.get_nodes)


class TestConsistencyProofNodes:
    @pytest.mark.parametrize(
        "case", VECTORS["consistency_proof_nodes"], ids=lambda c: f"{c['first']}-{c['second']}"
    )
    def test_matches_reference_node_sets(self, case: dict[str, Any]) -> None:
        nodes = merkle.consistency_proof_nodes(case["first"], case["second"])
        assert len(nodes) == len(set(nodes))
        assert set(nodes) == {tuple(node) for node in case["nodes"]}

    @pytest.mark.parametrize(
        "case", VECTORS["consistency_proof_node_errors"], ids=lambda c: f"{c['first']}-{c['second']}"
    )
    def test_rejects_reference_error_cases(self, case: dict[str, Any]) -> None:
        with pytest.raises(ProofRequestError):
            merkle.consistency_proof_nodes(case["first"], case["second"])

    def test_needs_logarithmically_many_nodes(self) -> None:
        second = 1_000_003
        worst = max(len(merkle.consistency_proof_nodes(first, second)) for first in range(1, second, 9973))
        assert worst <= 2 * second.bit_length()


class TestAssembleConsistencyProof:
    def test_builds_proof_from_exactly_the_listed_nodes(self) -> None:
        nodes = {node: NODE_HASHES[node] for node in merkle.consistency_proof_nodes(4, 7)}
        expected = [merkle.node_hash(NODE_HASHES[1, 2], NODE_HASHES[0, 6])]
        assert merkle.assemble_consistency_proof(4, 7, nodes) == expected

    def test_equal_sizes_give_an_empty_proof(self) -> None:
        assert merkle.assemble_consistency_proof(5, 5, {}) == []


class TestConsistencyProof:
    @pytest.mark.parametrize(
        "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['first']}-{c['second']}"
    )
    def test_matches_reference_proofs(self, case: dict[str, Any]) -> None:
        store = reference_store()
        proof = merkle.consistency_proof(case["first"], case["second"], store.size, store.get_nodes)
        assert hexes(proof) == case["proof"]

    def test_equal_sizes_give_an_empty_proof_without_lookup(self) -> None:
        fetch = CountingFetch(reference_store())
        assert merkle.consistency_proof(8, 8, 8, fetch) == []
        assert fetch.batches == []

    def test_uses_one_batched_lookup(self) -> None:
        fetch = CountingFetch(reference_store())
        merkle.consistency_proof(3, 7, 8, fetch)
        assert fetch.batches == [merkle.consistency_proof_nodes(3, 7)]

    @pytest.mark.parametrize(("first", "second"), [(0, 5), (0, 0), (6, 5), (-1, 5), (3, 9)])
    def test_rejects_invalid_requests(self, first: int, second: int) -> None:
        store = reference_store()
        with pytest.raises(ProofRequestError):
            merkle.consistency_proof(first, second, store.size, store.get_nodes)


class TestMemoryStore:
    def test_get_nodes_leaves_out_unknown_ids(self) -> None:
        store = reference_store()
        assert store.get_nodes([(0, 7), (0, 8), (3, 0), (4, 0), (-1, 0), (0, -1)]) == {
            (0, 7): NODE_HASHES[0, 7],
            (3, 0): NODE_HASHES[3, 0],
        }

    def test_stores_every_complete_subtree(self) -> None:
        store = reference_store()
        assert store.get_nodes(list(NODE_HASHES)) == NODE_HASHES
        assert store.size == 8

    def test_failed_append_stores_nothing(self) -> None:
        store = reference_store()
        with pytest.raises(ValueError):
            store.append([bytes(32), b"bad"])
        assert store.size == 8
        assert store.root_hash(8) == ROOTS[8]

    def test_appends_in_batches_continue_the_same_tree(self) -> None:
        store = MemoryStore()
        store.append(merkle.leaf_hash(leaf) for leaf in LEAVES[:3])
        result = store.append(merkle.leaf_hash(leaf) for leaf in LEAVES[3:])
        assert result.root == store.root_hash(8) == ROOTS[8]
        assert [store.root_hash(size) for size in range(9)] == ROOTS

    def test_proofs_match_reference(self) -> None:
        store = reference_store()
        inclusion, consistency = VECTORS["inclusion_proofs"][2], VECTORS["consistency_proofs"][4]
        assert hexes(store.inclusion_proof(5, 8)) == inclusion["proof"]
        assert hexes(store.consistency_proof(6, 7)) == consistency["proof"]
        assert (inclusion["leaf_index"], inclusion["tree_size"]) == (5, 8)
        assert (consistency["first"], consistency["second"]) == (6, 7)
