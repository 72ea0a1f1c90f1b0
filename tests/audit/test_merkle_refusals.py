"""What a bad proof request is told: each refusal names the sizes or index that were asked for, since
the API passes the message on to whoever asked."""

from __future__ import annotations

import pytest

from openbwv.audit import merkle
from openbwv.audit.merkle import MemoryStore, ProofRequestError


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    store.append(merkle.leaf_hash(bytes([n])) for n in range(5))
    return store


class TestRefusals:
    def test_a_negative_size_has_no_frontier(self) -> None:
        with pytest.raises(ProofRequestError, match=r"^tree size -1 is negative$"):
            merkle.frontier_nodes(-1)

    def test_a_size_beyond_the_log(self, store: MemoryStore) -> None:
        with pytest.raises(ProofRequestError, match=r"^tree size 6 is outside the log's sizes 0\.\.5$"):
            merkle.root_hash(6, 5, store.get_nodes)

    def test_a_leaf_outside_the_tree(self, store: MemoryStore) -> None:
        with pytest.raises(ProofRequestError, match=r"^leaf index 3 is not in a tree of 3 leaves$"):
            merkle.inclusion_proof(3, 3, 5, store.get_nodes)

    def test_a_consistency_proof_from_an_empty_tree(self, store: MemoryStore) -> None:
        with pytest.raises(
            ProofRequestError, match=r"^no consistency proof from tree size 0: it must be at least 1$"
        ):
            merkle.consistency_proof(0, 4, 5, store.get_nodes)

    def test_a_consistency_proof_backwards(self, store: MemoryStore) -> None:
        with pytest.raises(ProofRequestError, match=r"^first tree size 4 is larger than second tree size 3$"):
            merkle.consistency_proof(4, 3, 5, store.get_nodes)

    def test_appending_to_a_negative_size(self) -> None:
        with pytest.raises(ValueError, match=r"^tree size -1 is negative$"):
            merkle.append_leaves(-1, [], [])


class TestEmptyTree:
    def test_the_empty_tree_has_the_hash_of_nothing(self) -> None:
        assert merkle.assemble_root(0, {}) == merkle.EMPTY_ROOT
        assert merkle.frontier_root([]) == merkle.EMPTY_ROOT
