"""Merkle tree building and proof generation for the audit log (RFC 9162 §2.1).

Storage model: the hash of every complete (perfect) subtree is persisted, addressed by
``(level, index)``. Level 0 holds the leaf hashes; node ``(k, i)`` covers leaves
``[i * 2**k, (i + 1) * 2**k)``. Nodes are written once, when their last leaf arrives, and never
change. Any range of leaves that a root or proof needs is covered by O(log n) such nodes, so
roots and proofs for the current or any earlier tree size are assembled from stored nodes
without rehashing leaves.

Proof generation comes in two steps so that storage can answer each request with one batched
lookup: ``*_nodes()`` lists the node ids a result needs, and ``assemble_*()`` builds the result
from the fetched hashes. ``root_hash``, ``inclusion_proof`` and ``consistency_proof`` chain both
steps around a ``FetchNodes`` callable.

Verification lives in ``openbwv.audit.verify``, which deliberately shares no code with this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree."""

Node = tuple[int, int, bytes]
"""``(level, index, hash)`` of a complete subtree, as stored."""

FetchNodes = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]
"""Batched lookup of stored node hashes; ids that are not stored are left out of the result."""


class ProofRequestError(ValueError):
    """A root or proof was asked for with sizes or indices that the tree cannot answer."""


class MissingNodeError(LookupError):
    """A node needed for a root or proof was not in the fetched hashes: storage is incomplete."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- Appending ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Outcome of ``append_leaves``: the new size, the new frontier and the nodes to store."""

    size: int
    frontier: tuple[bytes, ...]
    nodes: list[Node]
    """Every complete subtree created by the append, leaves included, in creation order."""

    @property
    def root(self) -> bytes:
        """Root hash of the tree after the append."""
        return frontier_root(self.frontier)


def frontier_nodes(size: int) -> list[NodeId]:
    """Ids of the complete subtrees that together cover leaves ``[0, size)``, largest first.

    Their hashes are the frontier that ``append_leaves`` extends, and they fold into the root.
    """
    if size < 0:
        raise ProofRequestError(f"tree size {size} is negative")
    return [(level, (size >> level) - 1) for level in reversed(range(size.bit_length())) if size >> level & 1]


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Root hash of the tree whose frontier (hashes of ``frontier_nodes(size)``) is given."""
    return _fold(frontier) if frontier else EMPTY_ROOT


def append_leaves(size: int, frontier: Sequence[bytes], leaf_hashes: Iterable[bytes]) -> AppendResult:
    """Append leaf hashes to a tree of ``size`` leaves whose frontier is ``frontier``.

    Works like a binary counter: leaf ``i`` closes one complete subtree per trailing one bit of
    ``i``, each the hash of the frontier's last entry and the subtree just completed. Cost is
    about one SHA-256 per leaf on top of the leaf hashes themselves, which the caller supplies.
    Nodes come out in increasing index order within each level.
    """
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    if len(frontier) != size.bit_count():
        raise ValueError(
            f"a tree of {size} leaves has a frontier of {size.bit_count()} hashes, not {len(frontier)}"
        )
    stack = list(frontier)
    pop, push = stack.pop, stack.append
    nodes: list[Node] = []
    emit = nodes.append
    sha256 = hashlib.sha256
    index = size
    for digest in leaf_hashes:
        if len(digest) != HASH_SIZE:
            raise ValueError(f"leaf hash for index {index} has {len(digest)} bytes, not {HASH_SIZE}")
        emit((0, index, digest))
        position, level = index, 0
        while position & 1:
            digest = sha256(b"\x01" + pop() + digest).digest()
            position >>= 1
            level += 1
            emit((level, position, digest))
        push(digest)
        index += 1
    return AppendResult(size=index, frontier=tuple(stack), nodes=nodes)


# --- Roots and proofs --------------------------------------------------------------------------


def root_nodes(tree_size: int) -> list[NodeId]:
    """Node ids needed for the root hash of the tree of ``tree_size`` leaves."""
    return frontier_nodes(tree_size)


def assemble_root(tree_size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Root hash of the tree of ``tree_size`` leaves, from the hashes of ``root_nodes(tree_size)``."""
    ids = frontier_nodes(tree_size)
    return _fold([_lookup(nodes, node) for node in ids]) if ids else EMPTY_ROOT


def inclusion_proof_nodes(leaf_index: int, tree_size: int) -> list[NodeId]:
    """Node ids needed for the inclusion proof of ``leaf_index`` in the tree of ``tree_size`` leaves."""
    return _flatten(_inclusion_plan(leaf_index, tree_size))


def assemble_inclusion_proof(leaf_index: int, tree_size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Inclusion proof (RFC 9162 §2.1.3.1 order, leaf end first) from the fetched node hashes."""
    return _assemble(_inclusion_plan(leaf_index, tree_size), nodes)


def consistency_proof_nodes(first: int, second: int) -> list[NodeId]:
    """Node ids needed for the consistency proof between tree sizes ``first`` and ``second``."""
    return _flatten(_consistency_plan(first, second))


def assemble_consistency_proof(first: int, second: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Consistency proof (RFC 9162 §2.1.4.1 order) from the fetched node hashes; [] if first == second."""
    return _assemble(_consistency_plan(first, second), nodes)


def root_hash(tree_size: int, current_size: int, fetch: FetchNodes) -> bytes:
    """Root hash of the tree of ``tree_size`` leaves in a log that now has ``current_size`` leaves."""
    _check_size(tree_size, current_size)
    ids = frontier_nodes(tree_size)
    return assemble_root(tree_size, fetch(ids)) if ids else EMPTY_ROOT


def inclusion_proof(leaf_index: int, tree_size: int, current_size: int, fetch: FetchNodes) -> list[bytes]:
    """Inclusion proof of ``leaf_index`` in the tree of ``tree_size`` leaves, with one ``fetch`` call
    (none for a one-leaf tree, whose proof is empty)."""
    _check_size(tree_size, current_size)
    return _fetch_and_assemble(_inclusion_plan(leaf_index, tree_size), fetch)


def consistency_proof(first: int, second: int, current_size: int, fetch: FetchNodes) -> list[bytes]:
    """Consistency proof between tree sizes ``first`` and ``second``, with one ``fetch`` call
    (none when the sizes are equal, as the proof is empty)."""
    _check_size(second, current_size)
    return _fetch_and_assemble(_consistency_plan(first, second), fetch)


def _check_size(tree_size: int, current_size: int) -> None:
    if not 0 <= tree_size <= current_size:
        raise ProofRequestError(f"tree size {tree_size} is outside the log's sizes 0..{current_size}")


def _check_inclusion(leaf_index: int, tree_size: int) -> None:
    if not 0 <= leaf_index < tree_size:
        raise ProofRequestError(f"leaf index {leaf_index} is not in a tree of {tree_size} leaves")


def _check_consistency(first: int, second: int) -> None:
    if first <= 0:
        raise ProofRequestError(f"no consistency proof from tree size {first}: it must be at least 1")
    if first > second:
        raise ProofRequestError(f"first tree size {first} is larger than second tree size {second}")


def _inclusion_ranges(leaf_index: int, tree_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes make up PATH(leaf_index, D[0:tree_size]), in proof order.

    Walks RFC 9162's recursion top-down: at each split the sibling of the half holding the leaf
    is one proof entry; the list is reversed because the proof lists the deepest entry first.
    """
    ranges = []
    begin, end = 0, tree_size
    while end - begin > 1:
        middle = begin + _split(end - begin)
        if leaf_index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((begin, middle))
            begin = middle
    ranges.reverse()
    return ranges


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes make up SUBPROOF(first, D[0:second], true), in proof order.

    Top-down walk of RFC 9162 §2.1.4.1, empty when ``first == second``. ``whole`` is the
    recursion's boolean: once the walk has gone right, the old tree's share of the final range
    is not a root the verifier already knows, so that range is a proof entry too.
    """
    ranges = []
    begin, end, whole = 0, second, True
    while end != first:
        middle = begin + _split(end - begin)
        if first <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((begin, middle))
            begin, whole = middle, False
    if not whole:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def _split(width: int) -> int:
    """The largest power of two smaller than ``width`` (which is at least 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def _subtrees(begin: int, end: int) -> list[NodeId]:
    """Complete subtrees covering ``[begin, end)``, largest first: one per one bit of the width.

    Only valid for ranges that occur in RFC 9162's recursion, whose ``begin`` is a multiple of
    the largest power of two not above the width; the MTH of the range is then the right fold of
    these subtrees.
    """
    width = end - begin
    nodes = []
    while width:
        level = width.bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
        width ^= 1 << level
    return nodes


def _inclusion_plan(leaf_index: int, tree_size: int) -> list[list[NodeId]]:
    """Per proof entry, the complete subtrees whose fold is that entry."""
    _check_inclusion(leaf_index, tree_size)
    return [_subtrees(begin, end) for begin, end in _inclusion_ranges(leaf_index, tree_size)]


def _consistency_plan(first: int, second: int) -> list[list[NodeId]]:
    """Per proof entry, the complete subtrees whose fold is that entry."""
    _check_consistency(first, second)
    return [_subtrees(begin, end) for begin, end in _consistency_ranges(first, second)]


def _flatten(plan: list[list[NodeId]]) -> list[NodeId]:
    return [node for group in plan for node in group]


def _assemble(plan: list[list[NodeId]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return [_fold([_lookup(nodes, node) for node in group]) for group in plan]


def _fetch_and_assemble(plan: list[list[NodeId]], fetch: FetchNodes) -> list[bytes]:
    return _assemble(plan, fetch(_flatten(plan))) if plan else []


def _lookup(nodes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        return nodes[node]
    except KeyError:
        raise MissingNodeError(f"node {node} (level, index) is not stored") from None


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of adjacent complete subtrees, largest first, into the hash of their union."""
    result = hashes[-1]
    for digest in reversed(hashes[:-1]):
        result = node_hash(digest, result)
    return result


# --- In-memory storage -------------------------------------------------------------------------


class MemoryStore:
    """Complete-subtree hashes held in memory, for tests, tools and benchmarks.

    One list per level indexed by node index (rather than a dict keyed by ``(level, index)``),
    which keeps a million-leaf tree at a few hundred MB; ``get_nodes`` is a ``FetchNodes``.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []
        self._frontier: tuple[bytes, ...] = ()

    @property
    def size(self) -> int:
        return len(self._levels[0]) if self._levels else 0

    def append(self, leaf_hashes: Iterable[bytes]) -> AppendResult:
        """Append leaf hashes; nothing is stored if any of them is invalid."""
        result = append_leaves(self.size, self._frontier, leaf_hashes)
        levels = self._levels
        # Within each level nodes arrive in index order, so appending keeps list position == index.
        for level, _index, digest in result.nodes:
            if level == len(levels):
                levels.append([])
            levels[level].append(digest)
        self._frontier = result.frontier
        return result

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        found = {}
        for level, index in ids:
            if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
                found[level, index] = self._levels[level][index]
        return found

    def root_hash(self, tree_size: int) -> bytes:
        return root_hash(tree_size, self.size, self.get_nodes)

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> list[bytes]:
        return inclusion_proof(leaf_index, tree_size, self.size, self.get_nodes)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return consistency_proof(first, second, self.size, self.get_nodes)
