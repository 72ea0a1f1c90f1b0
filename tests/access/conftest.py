"""Every access test starts with the force's default reason codes, on both databases.

Migration 0009 seeds them; on PostgreSQL the tables are emptied after each test, so they are put back.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access
from openbwv.db import transaction


@pytest.fixture(autouse=True)
def default_reasons(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        access.seed_default_reasons(db)
