"""Independent verification of audit-log Merkle roots and proofs (RFC 9162 §2.1).

This module must not share the code path it checks: it never imports ``openbwv.audit.merkle``
(which builds the tree and its proofs). Roots are recomputed with the recursive MTH definition
rather than the builder's incremental frontier, and proofs are checked with the algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2. It uses only the standard library, so outside verifiers can
copy it as is.

The ``verify_*`` functions answer ``True`` or ``False`` and do not raise for malformed input
(wrong sizes, wrong hash lengths, proofs that are too short or too long).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _interior(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over the given leaf hashes, by the recursive definition of RFC 9162 §2.1.1.

    Raises ``ValueError`` if a leaf hash is not 32 bytes long.
    """
    for index, digest in enumerate(leaf_hashes):
        if len(digest) != HASH_SIZE:
            raise ValueError(f"leaf hash {index} has {len(digest)} bytes, not {HASH_SIZE}")
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()

    def mth(begin: int, end: int) -> bytes:
        if end - begin == 1:
            return leaf_hashes[begin]
        k = 1
        while k * 2 < end - begin:
            k *= 2
        return _interior(mth(begin, begin + k), mth(begin + k, end))

    return mth(0, len(leaf_hashes))


def verify_inclusion(
    leaf_hash: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf with hash ``leaf_hash`` at ``leaf_index`` in the tree of
    ``tree_size`` leaves whose root is ``root`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= leaf_index < tree_size:
        return False
    if len(leaf_hash) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _interior(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _interior(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves with root ``first_root`` to be a prefix
    of the tree of ``second`` leaves with root ``second_root`` (RFC 9162 §2.1.4.2).

    Equal sizes need an empty proof and equal roots. A consistency proof from size 0 is
    meaningless (every tree extends the empty tree), so ``first == 0`` is always rejected.
    """
    if not 0 < first <= second:
        return False
    if any(len(c) != HASH_SIZE for c in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _interior(c, fr)
            sr = _interior(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _interior(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class StreamingRoot:
    """Roots of a growing list of leaves, in one pass: for checking many checkpoints while reading
    a log once. Holds the hashes of the perfect subtrees covering the leaves so far, largest first
    (O(log n) memory); ``root()`` folds them right to left as RFC 9162's MTH splits.

    Raises ``ValueError`` for a leaf hash that is not 32 bytes long.
    """

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []

    def append(self, leaf_hash: bytes) -> None:
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash {self.size} has {len(leaf_hash)} bytes, not {HASH_SIZE}")
        subtrees = self._subtrees
        subtrees.append((1, leaf_hash))
        while len(subtrees) > 1 and subtrees[-1][0] == subtrees[-2][0]:
            width, right = subtrees.pop()
            _, left = subtrees.pop()
            subtrees.append((2 * width, _interior(left, right)))
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self._subtrees:
            return hashlib.sha256(b"").digest()
        result = self._subtrees[-1][1]
        for _, digest in reversed(self._subtrees[:-1]):
            result = _interior(digest, result)
        return result
