"""Keyword-argument builders for test data, committed so that the app under test sees it.

What a builder does not date happens at the clock's time, like everything the app does in a test.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth, clock, fleet, people
from openbwv.db import transaction
from openbwv.fleet import credentials as fleet_credentials
from openbwv.fleet import training
from openbwv.fleet.models import Device
from openbwv.people.models import Officer, Unit
from openbwv.policy import SYSTEM, DeviceScope, Role

DEFAULT_PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def make_unit(
    db: Session, *, code: str | None = None, name: str = "Response", kind: str = "response"
) -> Unit:
    return people.create_unit(db, SYSTEM, code=code or f"U{next(_sequence)}", name=name, kind=kind)


def make_officer(
    db: Session,
    *,
    collar: str | None = None,
    name: str = "Sam Patel",
    rank: str = "constable",
    unit: Unit | None = None,
) -> Officer:
    unit = unit or people.get_unit(db, "RESP") or make_unit(db, code="RESP")
    return people.create_officer(
        db, SYSTEM, collar_number=collar or f"{1000 + next(_sequence)}", name=name, rank=rank, unit=unit.code
    )


def make_user(
    db: Session,
    *,
    username: str | None = None,
    roles: list[Role] | None = None,
    password: str = DEFAULT_PASSWORD,
    officer: Officer | None = None,
) -> auth.UserAccount:
    # The account primitive, not ``people.create_account``: tests give roles to accounts without the
    # officer record or organisation a real account needs, where that is beside the point.
    return auth.create_user(
        db,
        SYSTEM,
        username=username or f"user{next(_sequence)}",
        password=password,
        roles=[str(r) for r in (roles or [Role.OFFICER])],
        display_name=officer.name if officer else None,
        officer_id=officer.id if officer else None,
    )


def headers_for(
    factory: sessionmaker[Session], *roles: Role, username: str | None = None, officer: Officer | None = None
) -> dict[str, str]:
    """Bearer headers for a new user holding ``roles``, linked to ``officer`` if given (a token is
    issued directly, skipping sign-in)."""
    with transaction(factory) as db:
        user = make_user(db, username=username, roles=list(roles) or [Role.OFFICER], officer=officer)
        token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def make_device(
    db: Session, *, kind: str = "camera", serial: str | None = None, model: str | None = None, **extra: Any
) -> Device:
    default_model = {"camera": "Axon Body 3", "taser": "X2", "dock": "Axon Dock 8"}[kind]
    return fleet.create_device(
        db,
        SYSTEM,
        kind=kind,
        serial=serial or f"SN{next(_sequence):06d}",
        model=model or default_model,
        **extra,
    )


def device_headers_for(
    factory: sessionmaker[Session],
    *,
    kind: str = "camera",
    serial: str | None = None,
    scopes: frozenset[DeviceScope] | None = None,
) -> dict[str, str]:
    """Bearer headers for a new device's credential: its kind's scopes, or ``scopes`` if given."""
    with transaction(factory) as db:
        device = make_device(db, kind=kind, serial=serial)
        if scopes is None:
            _, raw = fleet_credentials.issue_credential(db, SYSTEM, serial=device.serial)
        else:
            raw = auth.issue_device_credential(
                db, SYSTEM, device_id=device.id, serial=device.serial, scopes=scopes
            )
    return {"Authorization": f"Bearer {raw}"}


def make_pass(db: Session, officer: Officer, course: str, passed_on: date | None = None) -> None:
    """A pass of ``course``, on the clock's today unless dated."""
    passed_on = passed_on or clock.now().date()
    training.record_pass(
        db, SYSTEM, collar_number=officer.collar_number, course=course, passed_on=passed_on, today=passed_on
    )


NOT_FUNDED_FROM = date(2026, 11, 1)
NOT_FUNDED_REASON = "Sergeants not funded for the refresher"


def make_ineligible_taser_holder(
    db: Session, *, collar: str, name: str = "Ola Adeyemi", serial: str | None = None, rank: str = "sergeant"
) -> Officer:
    """An officer in date and volunteering, holding a Taser since 2026-09-01, when a policy from
    ``NOT_FUNDED_FROM`` makes sergeants ineligible (so only a sergeant becomes an exception)."""
    officer = make_officer(db, collar=collar, name=name, rank=rank)
    make_pass(db, officer, "taser_initial", date(2026, 3, 1))
    training.add_volunteer(db, SYSTEM, collar_number=collar, volunteered_on=date(2026, 3, 1))
    serial = serial or f"TS-{collar}"
    make_device(db, kind="taser", serial=serial)
    fleet.issue_device(
        db,
        SYSTEM,
        device_serial=serial,
        collar_number=collar,
        kind="personal",
        now=datetime(2026, 9, 1, 8, 0, tzinfo=UTC),
    )
    training.set_eligibility(
        db,
        SYSTEM,
        authority="taser",
        rank="sergeant",
        unit=None,
        eligible=False,
        effective_from=NOT_FUNDED_FROM,
        reason=NOT_FUNDED_REASON,
    )
    return officer
