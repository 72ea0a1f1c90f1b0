"""The record-access matrix: every record rule in policy, with a user it lets through and a user it
does not, through the real API on both databases; a list obeys the same rule as a single read.

A rule on footage is decided here on a described ``Record``; tests/footage/test_playback.py gives
each footage rule its user who may and user who may not through the playback API, on both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth, clock, fleet, people, taser
from openbwv.db import transaction
from openbwv.fleet import training
from openbwv.people.models import Officer
from openbwv.policy import (
    RECORD_RULES,
    ROLE_PERMISSIONS,
    SYSTEM,
    Actor,
    Permission,
    Record,
    RecordKind,
    Role,
    can,
    rules_granting,
    scope,
)
from tests.builders import make_device, make_officer, make_pass, make_unit, make_user

RULES = {rule.name: rule for rule in RECORD_RULES}
# Kinds of record whose rules are still decided only on a described record: they have no table yet.
KINDS_WITHOUT_TABLES = {RecordKind.FOOTAGE}


@dataclass(frozen=True)
class ApiCase:
    """Where the API reads one officer's record under the rule: JSON reads, pages, and the list
    that must hold the same records the single reads let through."""

    reads: tuple[str, ...]
    pages: tuple[str, ...] = ()
    listing: str | None = None
    setup: Callable[[Session, Officer], None] | None = None
    """Gives each of the two officers a record of the rule's kind, where the officers alone have none."""


def _file_taser_deployment(db: Session, officer: Officer) -> None:
    """The officer carries a Taser and files a report of drawing it (as their supervisor may)."""
    now = clock.now()
    collar = officer.collar_number
    make_pass(db, officer, "taser_initial", (now - timedelta(days=30)).date())
    training.add_volunteer(db, SYSTEM, collar_number=collar, volunteered_on=(now - timedelta(days=30)).date())
    make_device(db, kind="taser", serial=f"TS-{collar}")
    fleet.issue_device(
        db,
        SYSTEM,
        device_serial=f"TS-{collar}",
        collar_number=collar,
        kind="personal",
        now=now - timedelta(days=1),
    )
    sergeant = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))
    report = taser.DeploymentIn(
        collar_number=collar,
        taser_serial=f"TS-{collar}",
        occurred_at=now - timedelta(hours=1),
        lat=52.4862,
        lon=-1.8904,
        location_type="street",
        incident_number="INC-1",
        levels=["drawn"],
        reasons=["protect_self"],
        outcome="arrested",
    )
    taser.file_deployment(db, sergeant, report)


API_CASES: dict[str, ApiCase] = {
    "officer reads own officer record": ApiCase(
        reads=("/api/v1/officers/{collar}",), listing="/api/v1/officers"
    ),
    "officer reads own training record": ApiCase(reads=("/api/v1/officers/{collar}/training",)),
    "officer reads own kit": ApiCase(
        reads=("/api/v1/officers/{collar}/kit",), pages=("/officers/{collar}/kit",)
    ),
    "officer reads own Taser deployment reports": ApiCase(
        reads=(), listing="/api/v1/taser/deployments", setup=_file_taser_deployment
    ),
}


@dataclass(frozen=True)
class DescribedCase:
    """A record of a kind with no table yet, an actor the rule lets through and one it does not."""

    record: Record
    may: Actor
    may_not: Actor


_CLIP = Record(kind=RecordKind.FOOTAGE, id="clip-1", officer_id=7, unit_id=1, holder_user_ids=frozenset({21}))
_HELD_CLIP = Record(kind=RecordKind.FOOTAGE, id="clip-2", held_for_review=True)
_PANEL_COPY = Record(
    kind=RecordKind.FOOTAGE,
    id="clip-1-redacted",
    officer_id=7,
    holder_user_ids=frozenset({31}),
    redacted=True,
)
_UNREDACTED_BEFORE_PANEL = Record(
    kind=RecordKind.FOOTAGE, id="clip-1", officer_id=7, holder_user_ids=frozenset({31}), redacted=False
)


def _person(user_id: int, *roles: Role, officer_id: int | None = None) -> Actor:
    return Actor(username=f"user{user_id}", roles=frozenset(roles), user_id=user_id, officer_id=officer_id)


def _supervisor(user_id: int, *, unit_id: int) -> Actor:
    return Actor(
        username=f"user{user_id}",
        roles=frozenset({Role.SUPERVISOR}),
        user_id=user_id,
        officer_id=100 + user_id,
        supervised_unit_ids=frozenset({unit_id}),
    )


# Granted to 41 and 52 under a reason that is no complaint; to 51 under a complaint reason.
_GRANTED_CLIP = Record(
    kind=RecordKind.FOOTAGE,
    id="clip-3",
    officer_id=7,
    unit_id=1,
    grantee_user_ids=frozenset({41, 51, 52}),
    conduct_grantee_user_ids=frozenset({51}),
)


DESCRIBED_CASES: dict[str, DescribedCase] = {
    "officer sees own footage": DescribedCase(
        record=_CLIP,
        may=_person(1, Role.OFFICER, officer_id=7),
        may_not=_person(2, Role.OFFICER, officer_id=8),
    ),
    "evidence manager sees footage of cases they hold": DescribedCase(
        record=_CLIP,
        may=_person(21, Role.EVIDENCE_MANAGER),
        may_not=_person(22, Role.EVIDENCE_MANAGER),
    ),
    "evidence manager sees footage held for review": DescribedCase(
        record=_HELD_CLIP,
        may=_person(21, Role.EVIDENCE_MANAGER),
        may_not=_person(3, Role.OFFICER, officer_id=7),
    ),
    "supervisor sees their team's footage": DescribedCase(
        record=_CLIP,
        may=_supervisor(11, unit_id=1),
        may_not=_supervisor(12, unit_id=2),
    ),
    "evidence manager sees footage through a grant of access": DescribedCase(
        record=_GRANTED_CLIP,
        may=_person(41, Role.EVIDENCE_MANAGER),
        may_not=_person(42, Role.EVIDENCE_MANAGER),
    ),
    "investigator sees footage of cases they hold": DescribedCase(
        record=_CLIP,
        may=_person(21, Role.INVESTIGATOR),
        may_not=_person(22, Role.INVESTIGATOR),
    ),
    "investigator sees footage through a grant of access": DescribedCase(
        record=_GRANTED_CLIP,
        may=_person(41, Role.INVESTIGATOR),
        may_not=_person(42, Role.INVESTIGATOR),
    ),
    "professional standards see footage through a complaint or conduct grant": DescribedCase(
        record=_GRANTED_CLIP,
        may=_person(51, Role.PROFESSIONAL_STANDARDS),
        may_not=_person(52, Role.PROFESSIONAL_STANDARDS),
    ),
    "panel member sees redacted copies shared with them": DescribedCase(
        record=_PANEL_COPY,
        may=_person(31, Role.PANEL_MEMBER),
        may_not=_person(32, Role.PANEL_MEMBER),
    ),
}


def test_every_record_rule_has_a_case_and_every_case_a_rule() -> None:
    assert set(API_CASES) | set(DESCRIBED_CASES) == set(RULES)
    assert not set(API_CASES) & set(DESCRIBED_CASES)


def test_a_rule_is_decided_only_on_described_records_while_its_kind_has_no_table() -> None:
    assert {RULES[name].kind for name in DESCRIBED_CASES} <= KINDS_WITHOUT_TABLES
    assert not {RULES[name].kind for name in API_CASES} & KINDS_WITHOUT_TABLES


def test_rule_names_are_unique() -> None:
    assert len(RULES) == len(RECORD_RULES)


def _token_for(factory: sessionmaker[Session], officer_collar: str, *roles: Role) -> tuple[str, Actor]:
    with transaction(factory) as db:
        officer = people.get_officer(db, officer_collar)
        user = make_user(db, roles=list(roles) or [Role.OFFICER], officer=officer)
        token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        actor = auth.actor_for(user)
    return token, actor


def _owner_and_colleague(factory: sessionmaker[Session]) -> tuple[Officer, Officer]:
    """Two constables of one unit, each with a pass and a camera: the nearest miss for an own-record
    rule is a colleague whose record is just like the owner's."""
    with transaction(factory) as db:
        unit = make_unit(db, code="NPT1", name="Neighbourhood", kind="neighbourhood")
        owner = make_officer(db, collar="7001", name="Asha Khan", unit=unit)
        colleague = make_officer(db, collar="7002", name="Ben Cole", unit=unit)
        for officer in (owner, colleague):
            make_pass(db, officer, "bwv_user", date(2026, 1, 5))
            camera = make_device(db, kind="camera")
            fleet.issue_device(
                db, SYSTEM, device_serial=camera.serial, collar_number=officer.collar_number, kind="personal"
            )
    return owner, colleague


def _set_up(case: ApiCase, factory: sessionmaker[Session], *officers: Officer) -> None:
    if case.setup is not None:
        with transaction(factory) as db:
            for officer in officers:
                case.setup(db, officer)


def _bearer(token: str, page: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return {**headers, "Accept": "text/html"} if page else headers


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_record_rule_lets_its_user_through_and_not_a_colleague(
    name: str, client: TestClient, factory: sessionmaker[Session]
) -> None:
    rule, case = RULES[name], API_CASES[name]
    owner, colleague = _owner_and_colleague(factory)
    _set_up(case, factory, owner, colleague)
    # The rule, not a role, must be what lets the owner through.
    assert rule.permission not in ROLE_PERMISSIONS[Role.OFFICER]
    owner_token, owner_actor = _token_for(factory, owner.collar_number, Role.OFFICER)
    colleague_token, colleague_actor = _token_for(factory, colleague.collar_number, Role.OFFICER)

    record = people.officer_record(owner, rule.kind)
    assert rules_granting(owner_actor, rule.permission, record) == [name]
    assert not can(colleague_actor, rule.permission, record)

    for path in case.reads:
        url = path.format(collar=owner.collar_number)
        assert client.get(url, headers=_bearer(owner_token)).status_code == 200, url
        hidden = client.get(url, headers=_bearer(colleague_token))
        assert (hidden.status_code, hidden.json()) == (404, {"detail": "No such officer."}), url
    for path in case.pages:
        url = path.format(collar=owner.collar_number)
        assert client.get(url, headers=_bearer(owner_token, page=True)).status_code == 200, url
        assert client.get(url, headers=_bearer(colleague_token, page=True)).status_code == 404, url
    if case.listing is not None:
        for token, officer in ((owner_token, owner), (colleague_token, colleague)):
            page = client.get(case.listing, headers=_bearer(token)).json()
            assert [o["collar_number"] for o in page["items"]] == [officer.collar_number]
            assert page["total"] == 1


@pytest.mark.parametrize("name", sorted(API_CASES))
def test_a_role_granting_the_permission_force_wide_still_reads_every_record(
    name: str, client: TestClient, factory: sessionmaker[Session]
) -> None:
    rule, case = RULES[name], API_CASES[name]
    owner, colleague = _owner_and_colleague(factory)
    _set_up(case, factory, owner, colleague)
    staff = next(role for role in Role if role != Role.ADMIN and rule.permission in ROLE_PERMISSIONS[role])
    token, actor = _token_for(factory, colleague.collar_number, staff)
    assert scope(actor, rule.permission, rule.kind).everything
    for path in case.reads:
        assert client.get(path.format(collar=owner.collar_number), headers=_bearer(token)).status_code == 200
    if case.listing is not None:
        assert client.get(case.listing, headers=_bearer(token)).json()["total"] == 2


@pytest.mark.parametrize("name", sorted(DESCRIBED_CASES))
def test_record_rule_decides_on_a_described_record(name: str) -> None:
    rule, case = RULES[name], DESCRIBED_CASES[name]
    assert case.record.kind == rule.kind
    for actor in (case.may, case.may_not):
        assert not can(actor, rule.permission), "the rule, not a role, must decide"
    assert name in rules_granting(case.may, rule.permission, case.record)
    assert can(case.may, rule.permission, case.record)
    assert scope(case.may, rule.permission, rule.kind).admits(case.record)
    assert not can(case.may_not, rule.permission, case.record)
    assert not scope(case.may_not, rule.permission, rule.kind).admits(case.record)


def test_a_panel_member_never_sees_the_unredacted_copy_put_before_their_panel() -> None:
    member = DESCRIBED_CASES["panel member sees redacted copies shared with them"].may
    assert not can(member, Permission.FOOTAGE_CLIP_VIEW, _UNREDACTED_BEFORE_PANEL)


def test_a_holder_without_the_rules_role_is_not_let_through() -> None:
    prosecutor = _person(21, Role.PROSECUTOR)
    assert not can(prosecutor, Permission.FOOTAGE_CLIP_VIEW, _CLIP)
