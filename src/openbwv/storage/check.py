"""Whether the stored objects and the rows that name them agree, byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openbwv.storage.sealing import SealedObjectError
from openbwv.storage.store import ObjectStore


@dataclass(frozen=True)
class StorageReport:
    """What :func:`check_objects` found; ``corrupt`` pairs each key with what is wrong with it."""

    checked: int
    orphans: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    corrupt: tuple[tuple[str, str], ...] = ()

    @property
    def consistent(self) -> bool:
        return not (self.orphans or self.missing or self.corrupt)

    def problems(self) -> list[str]:
        """One line per problem, in key order within each kind."""
        return (
            [f"Orphan object (no row names it): {key}" for key in self.orphans]
            + [f"Missing object (a row names it): {key}" for key in self.missing]
            + [f"Corrupt object: {key}: {reason}" for key, reason in self.corrupt]
        )


async def check_objects(
    store: ObjectStore, expected: Mapping[str, str], *, prefixes: Sequence[str] = ("",)
) -> StorageReport:
    """Compare the objects under ``prefixes`` with ``expected`` (key: SHA-256 of the plaintext, hex).

    Every expected object is read whole, opening every chunk: one that fails to open or whose hash
    differs is corrupt. Objects under the prefixes that nothing expects are orphans; expected keys
    with no object are missing."""
    stored: set[str] = set()
    for prefix in prefixes:
        stored.update([key async for key in store.keys(prefix)])
    orphans = sorted(stored - expected.keys())
    missing: list[str] = []
    corrupt: list[tuple[str, str]] = []
    checked = 0
    for key in sorted(expected):
        if key not in stored and not any(key.startswith(prefix) for prefix in prefixes):
            # Outside the listed prefixes: it may still be there.
            if await store.size(key) is None:
                missing.append(key)
                continue
        elif key not in stored:
            missing.append(key)
            continue
        checked += 1
        digest = hashlib.sha256()
        try:
            async for chunk in store.read(key):
                digest.update(chunk)
        except SealedObjectError as exc:
            corrupt.append((key, str(exc)))
            continue
        except FileNotFoundError:
            missing.append(key)
            continue
        if digest.hexdigest() != expected[key].lower():
            corrupt.append((key, f"SHA-256 is {digest.hexdigest()}, its row says {expected[key].lower()}."))
    return StorageReport(
        checked=checked + len(orphans), orphans=tuple(orphans), missing=tuple(missing), corrupt=tuple(corrupt)
    )
