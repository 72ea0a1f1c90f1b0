"""Suppressing small counts in figures shared outside the force, as UK official statistics do.

A count from 1 to one below the threshold (by default 1 to 4) is *primary* suppressed: it could
point at a person. Zero is shown: it names nobody. Wherever counts add up to a total that is shown
(a row of a table and its total, the parts of a Home Office column group), a single hidden count
could be worked out by subtraction, so a second one is hidden too (*secondary* suppression): the
smallest non-zero count shown among the parts, else the total. This repeats until no sum has exactly
one hidden member. A hidden count is written ``[c]`` ("confidential"), the symbol the Government
Statistical Service's guidance on symbols in tables gives it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SUPPRESSED_SYMBOL = "[c]"
"""A count withheld from figures shared outside the force."""

Count = int | None
"""A count, or None where it is suppressed."""


@dataclass(frozen=True)
class Sum(Generic[K]):
    """``total`` is the sum of ``parts``: cells of one table that add up."""

    total: K
    parts: Sequence[K]


def suppress(cells: Mapping[K, int], sums: Sequence[Sum[K]], *, below: int) -> dict[K, Count]:
    """``cells`` with every count from 1 to ``below - 1`` hidden, and as many more as it takes that no
    hidden count can be worked out from a sum in ``sums``."""
    order = {key: index for index, key in enumerate(cells)}
    hidden = {key for key, count in cells.items() if 0 < count < below}
    changed = True
    while changed:
        changed = False
        for relation in sums:
            members = [relation.total, *relation.parts]
            if sum(member in hidden for member in members) != 1:
                continue
            shown_parts = [p for p in relation.parts if p not in hidden and cells[p] > 0]
            if shown_parts:
                hidden.add(min(shown_parts, key=lambda p: (cells[p], order[p])))
                changed = True
            elif relation.total not in hidden:
                hidden.add(relation.total)
                changed = True
    return {key: None if key in hidden else count for key, count in cells.items()}


def shown(count: Count) -> str:
    """A count as a shared table writes it."""
    return SUPPRESSED_SYMBOL if count is None else str(count)
