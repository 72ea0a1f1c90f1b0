"""Units, ranks, officers and the accounts linked to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.orm import Session

from openbwv import audit, auth, clock
from openbwv.audit import AuditAction, Target
from openbwv.auth import UserAccount
from openbwv.db import bulk_insert, in_values, refusing_duplicates
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.people.models import Officer, Rank, Unit
from openbwv.policy import (
    Actor,
    Fact,
    FactTest,
    Permission,
    Record,
    RecordKind,
    Role,
    can,
    is_in,
    scope,
    scope_clause,
)


def list_ranks(db: Session) -> list[Rank]:
    return list(db.scalars(select(Rank).order_by(Rank.seniority)).all())


def get_unit(db: Session, code: str) -> Unit | None:
    return db.scalar(select(Unit).where(Unit.code == code.strip().upper()))


def list_units(db: Session) -> list[Unit]:
    return list(db.scalars(select(Unit).order_by(Unit.name)).all())


def create_unit(
    db: Session, actor: Actor, *, code: str, name: str, kind: str = "other", station: str | None = None
) -> Unit:
    """Create a unit; codes are stored upper-case and must be unique."""
    code = code.strip().upper()
    taken = Conflict(f"A unit with code {code} already exists.", rule="unit_code_taken")
    if get_unit(db, code) is not None:
        raise taken
    unit = Unit(code=code, name=name.strip(), kind=kind.strip().lower(), station=station)
    with refusing_duplicates(db, {"uq_unit_code": taken}):
        db.add(unit)
    audit.record(db, actor=actor, action=AuditAction.PEOPLE_UNIT_CREATED, target=Target("unit", code))
    return unit


def get_officer(db: Session, collar_number: str) -> Officer | None:
    return db.scalar(select(Officer).where(Officer.collar_number == collar_number.strip().upper()))


def get_officer_by_id(db: Session, officer_id: int) -> Officer | None:
    return db.get(Officer, officer_id)


# How the facts policy's record rules read about an officer's records are found in the officer table.
OFFICER_FACTS: dict[Fact, FactTest] = {Fact.OFFICER: is_in(Officer.id), Fact.UNIT: is_in(Officer.unit_id)}


def officer_record(officer: Officer, kind: RecordKind = RecordKind.OFFICER) -> Record:
    """An officer's record of ``kind`` (their officer record, training record or kit) as policy's
    record rules see it: whose it is and the unit they serve in."""
    return Record(kind=kind, id=officer.collar_number, officer_id=officer.id, unit_id=officer.unit_id)


def get_officer_for(
    db: Session,
    actor: Actor,
    collar_number: str,
    *,
    permission: Permission = Permission.PEOPLE_OFFICER_READ,
    kind: RecordKind = RecordKind.OFFICER,
) -> Officer | None:
    """The officer, when ``actor`` may do ``permission`` on their record of ``kind`` (by default,
    read their officer record); None when there is no such officer or it is hidden from the actor."""
    officer = get_officer(db, collar_number)
    if officer is None or not can(actor, permission, officer_record(officer, kind)):
        return None
    return officer


@dataclass(frozen=True)
class OfficerFilter:
    search: str | None = None
    unit: str | None = None
    rank: str | None = None
    active: bool | None = None


def list_officers(db: Session, *, where: OfficerFilter, limit: int, offset: int) -> tuple[list[Officer], int]:
    """Officers ordered by collar number, filtered by name or collar fragment, unit, rank and status."""
    return _page_of_officers(db, select(Officer), where=where, limit=limit, offset=offset)


def list_officers_for(
    db: Session, actor: Actor, *, where: OfficerFilter, limit: int, offset: int
) -> tuple[list[Officer], int]:
    """The officers whose records ``actor`` may read (policy's scope, the rule of ``get_officer_for``),
    as ``list_officers`` orders and filters them."""
    visible = scope(actor, Permission.PEOPLE_OFFICER_READ, RecordKind.OFFICER)
    if visible.nothing:
        return [], 0
    query = select(Officer).where(scope_clause(visible, OFFICER_FACTS))
    return _page_of_officers(db, query, where=where, limit=limit, offset=offset)


def _page_of_officers(
    db: Session, query: Select[Officer], *, where: OfficerFilter, limit: int, offset: int
) -> tuple[list[Officer], int]:
    if where.search:
        pattern = f"%{where.search.strip().lower()}%"
        query = query.where(
            or_(func.lower(Officer.name).like(pattern), func.lower(Officer.collar_number).like(pattern))
        )
    if where.unit:
        query = query.join(Unit, Unit.id == Officer.unit_id).where(Unit.code == where.unit.strip().upper())
    if where.rank:
        query = query.where(Officer.rank_code == where.rank)
    if where.active is not None:
        query = query.where(Officer.is_active == where.active)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Officer.collar_number).limit(limit).offset(offset)).all()
    return list(rows), total


def create_officer(
    db: Session, actor: Actor, *, collar_number: str, name: str, rank: str, unit: str
) -> Officer:
    """Create an officer in a unit at a rank; the collar number is unique across the force."""
    collar_number = collar_number.strip().upper()
    rank_row = db.get(Rank, rank.strip().lower())
    if rank_row is None:
        valid = ", ".join(r.code for r in list_ranks(db))
        raise InvalidInput("rank", f"unknown rank {rank!r}; valid ranks are {valid}")
    unit_row = get_unit(db, unit)
    if unit_row is None:
        raise InvalidInput("unit", f"no unit has the code {unit.strip().upper()!r}")
    taken = Conflict(f"Collar number {collar_number} is already in use.", rule="collar_number_taken")
    if get_officer(db, collar_number) is not None:
        raise taken
    officer = Officer(collar_number=collar_number, name=name.strip(), rank=rank_row, unit=unit_row)
    with refusing_duplicates(db, {"uq_officer_collar_number": taken}):
        db.add(officer)
    audit.record(
        db, actor=actor, action=AuditAction.PEOPLE_OFFICER_CREATED, target=Target("officer", collar_number)
    )
    return officer


def mark_leaver(db: Session, actor: Actor, *, collar_number: str, left_on: date) -> Officer:
    """Record that an officer has left the force; their history is kept."""
    officer = get_officer(db, collar_number)
    if officer is None:
        raise NotFound("officer")
    if not officer.is_active:
        raise Conflict(
            f"Officer {officer.collar_number} already left on {officer.left_on}.", rule="already_left"
        )
    officer.is_active = False
    officer.left_on = left_on
    audit.record(
        db,
        actor=actor,
        action=AuditAction.PEOPLE_OFFICER_UPDATED,
        target=Target("officer", officer.collar_number),
        details={"left_on": left_on.isoformat()},
    )
    return officer


def create_account(
    db: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    display_name: str | None = None,
    collar_number: str | None = None,
    organisation: str | None = None,
) -> UserAccount:
    """Create a user account, linked to an officer when a collar number is given; refused when it
    contradicts itself (``auth.check_account_shape``)."""
    organisation = (organisation or "").strip() or None
    auth.check_account_shape(
        auth.parse_roles(roles),
        has_officer=bool(collar_number and collar_number.strip()),
        organisation=organisation,
    )
    officer = None
    if collar_number:
        officer = get_officer(db, collar_number)
        if officer is None:
            raise InvalidInput(
                "collar_number", f"no officer has collar number {collar_number.strip().upper()}"
            )
    return auth.create_user(
        db,
        actor,
        username=username,
        password=password,
        roles=roles,
        display_name=display_name or (officer.name if officer else None),
        officer_id=officer.id if officer else None,
        organisation=organisation,
    )


def collar_numbers_for(db: Session, officer_ids: Iterable[int | None]) -> dict[int, str]:
    """Collar numbers of the given officers, for showing accounts alongside the people they belong to."""
    ids = {i for i in officer_ids if i is not None}
    if not ids:
        return {}
    rows = db.execute(select(Officer.id, Officer.collar_number).where(Officer.id.in_(ids))).all()
    return {officer_id: collar for officer_id, collar in rows}


def list_accounts(
    db: Session, *, search: str | None, role: Role | None, limit: int, offset: int
) -> tuple[list[UserAccount], int]:
    return auth.list_users(db, search=search, role=role, limit=limit, offset=offset)


def get_account(db: Session, username: str) -> UserAccount | None:
    return auth.get_user(db, username)


def set_account_roles(db: Session, actor: Actor, *, username: str, roles: Iterable[str]) -> UserAccount:
    """Replace an account's roles; refused when they contradict the account (an officer's role on
    an account with no officer record, an outside role without its organisation)."""
    user = auth.get_user(db, username)
    if user is None:
        raise NotFound("user")
    role_set = auth.parse_roles(roles)
    auth.check_account_shape(
        role_set, has_officer=user.officer_id is not None, organisation=user.organisation
    )
    return auth.set_roles(db, actor, username=username, roles=role_set)


def disable_account(db: Session, actor: Actor, *, username: str) -> UserAccount:
    return auth.disable_user(db, actor, username=username)


def enable_account(db: Session, actor: Actor, *, username: str) -> UserAccount:
    """Let a disabled account sign in again; not the account of an officer who has left the force."""
    user = auth.get_user(db, username)
    if user is None:
        raise NotFound("user")
    officer = db.get(Officer, user.officer_id) if user.officer_id is not None else None
    if officer is not None and not officer.is_active and not user.is_active:
        raise Conflict(
            f"Officer {officer.collar_number} left the force on {officer.left_on}; "
            "their account stays disabled.",
            rule="officer_has_left",
        )
    return auth.enable_user(db, actor, username=username)


def set_temporary_password(db: Session, actor: Actor, *, username: str, password: str) -> UserAccount:
    return auth.set_temporary_password(db, actor, username=username, password=password)


def officers_by_ids(db: Session, officer_ids: Iterable[int]) -> dict[int, Officer]:
    """Officers by id, for showing other domains' rows alongside the people they name."""
    ids = sorted(set(officer_ids))
    found: dict[int, Officer] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        found.update({o.id: o for o in db.scalars(select(Officer).where(Officer.id.in_(chunk))).all()})
    return found


def supervised_unit_ids(db: Session, actor: Actor) -> frozenset[int]:
    """The units ``actor`` supervises: for a supervisor, the unit their officer record serves in
    (as their unit's notifications are theirs); none for anyone else."""
    if Role.SUPERVISOR not in actor.roles or actor.officer_id is None:
        return frozenset()
    unit_id = db.scalar(select(Officer.unit_id).where(Officer.id == actor.officer_id))
    return frozenset() if unit_id is None else frozenset({unit_id})


def officer_ids_in_units(unit_ids: Iterable[int]) -> Select[int]:
    """The ids of the officers serving in ``unit_ids``, as a subquery for another domain's record
    scope (a supervisor's team's footage)."""
    return select(Officer.id).where(Officer.unit_id.in_(sorted(set(unit_ids))))


def officer_id_list_in_units(db: Session, unit_ids: Iterable[int]) -> list[int]:
    """The ids of the officers serving in ``unit_ids``, as a list: a query that names them outright
    lets the database read another table's index officer by officer (a team's footage)."""
    return list(db.scalars(officer_ids_in_units(unit_ids).order_by(Officer.id)))


def officer_ids_by_unit(db: Session) -> dict[int, list[int]]:
    """The ids of serving officers in each unit, keyed by unit id."""
    grouped: dict[int, list[int]] = {}
    rows = db.execute(select(Officer.unit_id, Officer.id).where(Officer.is_active.is_(True))).all()
    for unit_id, officer_id in rows:
        grouped.setdefault(unit_id, []).append(officer_id)
    return grouped


def existing_collar_numbers(db: Session, collar_numbers: Iterable[str]) -> set[str]:
    """Which of ``collar_numbers`` are already taken, in one query per 5,000."""
    wanted = sorted({c.strip().upper() for c in collar_numbers})
    taken: set[str] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        taken.update(
            db.scalars(select(Officer.collar_number).where(in_values(db, Officer.collar_number, chunk))).all()
        )
    return taken


def bulk_create_officers(db: Session, actor: Actor, rows: list[dict[str, str]]) -> int:
    """Insert validated officers (collar_number, name, rank code, unit code) in batches; one audit event.

    The caller has checked every row (ranks, units and collar numbers); this only writes.
    """
    unit_ids = {u.code: u.id for u in list_units(db)}
    now = clock.now()
    values = [
        {
            "collar_number": r["collar_number"].strip().upper(),
            "name": r["name"].strip(),
            "rank_code": r["rank"].strip().lower(),
            "unit_id": unit_ids[r["unit"].strip().upper()],
            "is_active": True,
            "created_at": now,
        }
        for r in rows
    ]
    officer_table = Officer.__table__
    assert isinstance(officer_table, Table)
    for start in range(0, len(values), 5000):
        bulk_insert(db, officer_table, [{**v, "left_on": None} for v in values[start : start + 5000]])
    audit.record(
        db,
        actor=actor,
        action=AuditAction.PEOPLE_OFFICER_CREATED,
        target=Target("officer_import", str(len(values))),
        details={"count": len(values)},
    )
    return len(values)
