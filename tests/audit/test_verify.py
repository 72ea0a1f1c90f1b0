"""Independent verification: published probes, and a cross-check against the tree builder."""

from __future__ import annotations

import ast
import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from openbwv.audit import merkle, verify
from openbwv.audit.merkle import MemoryStore

VECTOR_DIR = Path(__file__).parent / "vectors"
REFERENCE: dict[str, Any] = json.loads((VECTOR_DIR / "merkle_reference.json").read_text())
INCLUSION_PROBES: list[dict[str, Any]] = json.loads((VECTOR_DIR / "inclusion_probes.json").read_text())[
    "cases"
]
CONSISTENCY_PROBES: list[dict[str, Any]] = json.loads((VECTOR_DIR / "consistency_probes.json").read_text())[
    "cases"
]
LEAVES = [bytes.fromhex(leaf) for leaf in REFERENCE["leaves"]]
ROOTS = [bytes.fromhex(root) for root in REFERENCE["roots"]]


def b64(value: str) -> bytes:
    return base64.b64decode(value)


def b64_proof(proof: list[str] | None) -> list[bytes]:
    return [b64(p) for p in proof or []]


def flip_bit(digest: bytes, bit: int) -> bytes:
    return bytes(b ^ (1 << (bit % 8)) if i == bit // 8 else b for i, b in enumerate(digest))


def random_store(rng: random.Random, size: int) -> tuple[MemoryStore, list[bytes]]:
    hashes = [
        merkle.leaf_hash(rng.randbytes(rng.randrange(40)) + index.to_bytes(4, "big")) for index in range(size)
    ]
    store = MemoryStore()
    for start in range(0, size, 37):
        store.append(hashes[start : start + 37])
    return store, hashes


class TestModuleIndependence:
    def test_verify_does_not_import_the_tree_builder(self) -> None:
        tree = ast.parse(Path(verify.__file__).read_text())
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add("." * node.level + (node.module or ""))
                imported.update(alias.name for alias in node.names)
        assert imported <= {"__future__", "annotations", "hashlib", "collections.abc", "Sequence"}

    @pytest.mark.parametrize("module", ["verification", "proof_file", "canonical"])
    def test_the_log_checker_uses_neither_the_tree_builder_nor_the_sequencer(self, module: str) -> None:
        source = Path(verify.__file__).with_name(f"{module}.py").read_text()
        names: set[str] = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        assert not {n for n in names if n.split(".")[-1] in {"merkle", "log", "proofs"} or ".merkle" in n}


class TestLeafHash:
    def test_matches_reference_leaf_hashes(self) -> None:
        expected = [bytes.fromhex(digest) for digest in REFERENCE["node_hashes"][0]]
        assert [verify.leaf_hash(leaf) for leaf in LEAVES] == expected


class TestRootFromLeafHashes:
    @pytest.mark.parametrize("size", range(9))
    def test_matches_reference_roots(self, size: int) -> None:
        assert verify.root_from_leaf_hashes([verify.leaf_hash(leaf) for leaf in LEAVES[:size]]) == ROOTS[size]

    def test_agrees_with_the_appender_on_random_trees(self) -> None:
        rng = random.Random(11)
        for size in [*range(1, 70), *rng.sample(range(70, 700), 20)]:
            hashes = [rng.randbytes(32) for _ in range(size)]
            assert verify.root_from_leaf_hashes(hashes) == merkle.append_leaves(0, (), hashes).root, size

    def test_any_changed_leaf_changes_the_root(self) -> None:
        hashes = [verify.leaf_hash(leaf) for leaf in LEAVES[:7]]
        root = verify.root_from_leaf_hashes(hashes)
        for index in range(7):
            changed = list(hashes)
            changed[index] = flip_bit(changed[index], 5)
            assert verify.root_from_leaf_hashes(changed) != root

    def test_rejects_hash_of_the_wrong_length(self) -> None:
        with pytest.raises(ValueError, match="leaf hash 1"):
            verify.root_from_leaf_hashes([bytes(32), bytes(31)])


class TestStreamingRoot:
    def test_matches_reference_roots_after_every_leaf(self) -> None:
        stream = verify.StreamingRoot()
        assert stream.root() == ROOTS[0]
        for size, leaf in enumerate(LEAVES, start=1):
            stream.append(verify.leaf_hash(leaf))
            assert (stream.size, stream.root()) == (size, ROOTS[size])

    def test_agrees_with_the_recursive_definition(self) -> None:
        rng = random.Random(12)
        hashes = [rng.randbytes(32) for _ in range(300)]
        stream = verify.StreamingRoot()
        for size, digest in enumerate(hashes, start=1):
            stream.append(digest)
            if size < 70 or size % 37 == 0:
                assert stream.root() == verify.root_from_leaf_hashes(hashes[:size]), size

    def test_rejects_hash_of_the_wrong_length(self) -> None:
        stream = verify.StreamingRoot()
        stream.append(bytes(32))
        with pytest.raises(ValueError, match="leaf hash 1"):
            stream.append(bytes(33))


class TestVerifyInclusion:
    @pytest.mark.parametrize("probe", INCLUSION_PROBES, ids=lambda p: p["case"])
    def test_published_probes(self, probe: dict[str, Any]) -> None:
        accepted = verify.verify_inclusion(
            b64(probe["leafHash"]),
            probe["leafIdx"],
            probe["treeSize"],
            b64_proof(probe["proof"]),
            b64(probe["root"]),
        )
        assert accepted is not probe["wantErr"]

    @pytest.mark.parametrize(
        "case", REFERENCE["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}@{c['tree_size']}"
    )
    def test_reference_proofs(self, case: dict[str, Any]) -> None:
        leaf = verify.leaf_hash(LEAVES[case["leaf_index"]])
        proof = [bytes.fromhex(p) for p in case["proof"]]
        assert verify.verify_inclusion(
            leaf, case["leaf_index"], case["tree_size"], proof, ROOTS[case["tree_size"]]
        )
        if proof:
            assert not verify.verify_inclusion(
                leaf, case["leaf_index"], case["tree_size"], proof[:-1], ROOTS[case["tree_size"]]
            )

    def test_every_generated_proof_verifies_and_no_tampered_one_does(self) -> None:
        rng = random.Random(2024)
        for size in [*range(1, 40), *rng.sample(range(40, 400), 12)]:
            store, hashes = random_store(rng, size)
            root = verify.root_from_leaf_hashes(hashes)
            assert store.root_hash(size) == root
            for index in range(size):
                proof = store.inclusion_proof(index, size)
                assert verify.verify_inclusion(hashes[index], index, size, proof, root), (index, size)
                if rng.random() < 0.2:
                    self._assert_tampering_detected(rng, hashes, index, size, proof, root)

    @staticmethod
    def _assert_tampering_detected(
        rng: random.Random, hashes: list[bytes], index: int, size: int, proof: list[bytes], root: bytes
    ) -> None:
        for position in range(len(proof)):
            tampered = list(proof)
            tampered[position] = flip_bit(tampered[position], rng.randrange(256))
            assert not verify.verify_inclusion(hashes[index], index, size, tampered, root)
        assert not verify.verify_inclusion(
            flip_bit(hashes[index], rng.randrange(256)), index, size, proof, root
        )
        assert not verify.verify_inclusion(hashes[index], index, size, [*proof, bytes(32)], root)
        if size > 1:
            other = (index + 1) % size
            assert not verify.verify_inclusion(hashes[other], index, size, proof, root)
            assert not verify.verify_inclusion(hashes[index], index, size, proof[:-1], root)
            assert not verify.verify_inclusion(hashes[index], other, size, proof, root)

    def test_a_proof_for_a_past_tree_checks_against_that_trees_root(self) -> None:
        rng = random.Random(8)
        store, hashes = random_store(rng, 300)
        proof = store.inclusion_proof(123, 200)
        assert verify.verify_inclusion(
            hashes[123], 123, 200, proof, verify.root_from_leaf_hashes(hashes[:200])
        )
        assert not verify.verify_inclusion(hashes[123], 123, 300, proof, verify.root_from_leaf_hashes(hashes))

    @pytest.mark.parametrize(("index", "size"), [(-1, 1), (1, 1), (0, 0)])
    def test_rejects_impossible_positions(self, index: int, size: int) -> None:
        leaf = verify.leaf_hash(LEAVES[0])
        assert not verify.verify_inclusion(leaf, index, size, [], leaf)


class TestVerifyConsistency:
    @pytest.mark.parametrize("probe", CONSISTENCY_PROBES, ids=lambda p: p["case"])
    def test_published_probes(self, probe: dict[str, Any]) -> None:
        accepted = verify.verify_consistency(
            probe["size1"],
            probe["size2"],
            b64(probe["root1"]),
            b64(probe["root2"]),
            b64_proof(probe["proof"]),
        )
        assert accepted is not probe["wantErr"]

    @pytest.mark.parametrize(
        "case", REFERENCE["consistency_proofs"], ids=lambda c: f"{c['first']}-{c['second']}"
    )
    def test_reference_proofs(self, case: dict[str, Any]) -> None:
        first, second = case["first"], case["second"]
        proof = [bytes.fromhex(p) for p in case["proof"]]
        assert verify.verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)
        if first != second:
            assert not verify.verify_consistency(first, second, ROOTS[second], ROOTS[first], proof)

    def test_every_generated_proof_verifies_and_no_tampered_one_does(self) -> None:
        rng = random.Random(77)
        for second in [*range(1, 33), *rng.sample(range(33, 300), 8)]:
            store, hashes = random_store(rng, second)
            roots = [verify.root_from_leaf_hashes(hashes[:size]) for size in range(second + 1)]
            for first in range(1, second + 1):
                proof = store.consistency_proof(first, second)
                assert verify.verify_consistency(first, second, roots[first], roots[second], proof), (
                    first,
                    second,
                )
                if first < second and rng.random() < 0.25:
                    self._assert_tampering_detected(rng, first, second, roots, proof)

    @staticmethod
    def _assert_tampering_detected(
        rng: random.Random, first: int, second: int, roots: list[bytes], proof: list[bytes]
    ) -> None:
        for position in range(len(proof)):
            tampered = list(proof)
            tampered[position] = flip_bit(tampered[position], rng.randrange(256))
            assert not verify.verify_consistency(first, second, roots[first], roots[second], tampered)
        bad_first, bad_second = flip_bit(roots[first], 0), flip_bit(roots[second], 255)
        assert not verify.verify_consistency(first, second, bad_first, roots[second], proof)
        assert not verify.verify_consistency(first, second, roots[first], bad_second, proof)
        assert not verify.verify_consistency(first, second, roots[first], roots[second], proof[:-1])
        assert not verify.verify_consistency(first, second, roots[first], roots[second], [*proof, bytes(32)])
        if first > 1:
            assert not verify.verify_consistency(first - 1, second, roots[first - 1], roots[second], proof)

    def test_a_rewritten_history_is_not_consistent(self) -> None:
        rng = random.Random(4)
        store, hashes = random_store(rng, 50)
        forked = list(hashes)
        forked[17] = merkle.leaf_hash(b"rewritten")
        forked_store = MemoryStore()
        forked_store.append(forked)
        proof = forked_store.consistency_proof(30, 50)
        assert not verify.verify_consistency(30, 50, store.root_hash(30), forked_store.root_hash(50), proof)

    def test_equal_sizes_need_equal_roots_and_no_proof(self) -> None:
        assert verify.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
        assert not verify.verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
        assert not verify.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])

    @pytest.mark.parametrize(("first", "second"), [(0, 8), (0, 0), (-1, 8), (8, 5)])
    def test_rejects_impossible_sizes(self, first: int, second: int) -> None:
        assert not verify.verify_consistency(first, second, ROOTS[0], ROOTS[8], [ROOTS[8]])
