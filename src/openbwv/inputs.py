"""What an input may hold: integers the databases can store.

SQLite stores integers in 64 bits and PostgreSQL's ``integer`` in 32. Routes and schemas take their
integers through the types here, so hostile input is refused with 422 where it arrives instead of
failing in a query with 500.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

RecordId = Annotated[int, Ge(1), Le(MAX_INT32)]
"""The id of a row keyed by an ``Integer`` column (PostgreSQL ``integer``)."""
BigRecordId = Annotated[int, Ge(1), Le(MAX_INT64)]
"""The id of a row keyed by a ``BigInteger`` column (audit events)."""
Count = Annotated[int, Ge(0), Le(MAX_INT64)]
"""A count or position the databases hold in 64 bits: an offset, a leaf index, a tree size."""
