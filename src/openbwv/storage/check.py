"""Whether the stored objects and the rows that name them agree, byte for byte."""

from __future__ import annotations

import contextlib
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
    store: ObjectStore, expected: Mapping[str, str | None], *, prefixes: Sequence[str] = ("",)
) -> StorageReport:
    """Compare the objects under ``prefixes`` with ``expected`` (key: SHA-256 of the plaintext, hex,
    or None where no row records one: such an object must be there and open, whatever its hash).

    Every expected object is read whole, opening every chunk (of every part, if it is composed): one
    that fails to open or whose hash differs is corrupt. Objects under the prefixes that nothing
    expects, and that are no expected object's part, are orphans; expected keys with no object, or
    with a part missing, are missing."""
    stored: set[str] = set()
    for prefix in prefixes:
        stored.update([key async for key in store.keys(prefix)])
    accounted: set[str] = set(expected)
    missing: list[str] = []
    corrupt: list[tuple[str, str]] = []
    checked = 0
    for key in sorted(expected):
        # A manifest that cannot be opened is reported as corrupt when read below.
        with contextlib.suppress(SealedObjectError):
            accounted.update(await store.constituents(key))
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
        except FileNotFoundError as exc:
            missing.append(key if str(exc) == key else f"{key} (its part {exc})")
            continue
        recorded = expected[key]
        if recorded is not None and digest.hexdigest() != recorded.lower():
            corrupt.append((key, f"SHA-256 is {digest.hexdigest()}, its row says {recorded.lower()}."))
    orphans = sorted(stored - accounted)
    return StorageReport(
        checked=checked + len(orphans), orphans=tuple(orphans), missing=tuple(missing), corrupt=tuple(corrupt)
    )
