"""The fleet's periodic work: the daily Taser authority check."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import transaction
from openbwv.fleet.authority import run_daily_authority_check
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM

registry = JobRegistry()

DAILY_AUTHORITY_CHECK = "fleet.daily_authority_check"


@registry.schedule(DAILY_AUTHORITY_CHECK, "5 2 * * *")
def daily_authority_check(factory: sessionmaker[Session]) -> None:
    """Every night: notify lapsing authorities, and lapsed or ineligible ones with a Taser still out (idempotent)."""
    with transaction(factory) as db:
        run_daily_authority_check(db, SYSTEM, today=clock.today())


@registry.on_startup
def catch_up_authority_check(factory: sessionmaker[Session]) -> None:
    """Run today's check at start-up too, so a server that was down at 02:05 does not skip a day."""
    daily_authority_check(factory)
