"""Finding clips within the caller's record scope, and telling reviewers about clips that need them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, String, and_, any_, bindparam, cast, false, select, true
from sqlalchemy.orm import Session

from openbwv import access, audit, fleet, notifications, people
from openbwv.access import AccessKind
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.footage.models import Clip, ClipSource
from openbwv.policy import (
    SYSTEM,
    Actor,
    Fact,
    FactTest,
    Record,
    RecordKind,
    Role,
    is_in,
)

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _held_for_review(values: frozenset[Any]) -> ColumnElement[bool]:
    held = and_(Clip.review_reason.is_not(None), Clip.officer_id.is_(None))
    return held if True in values else false()


def _original_copy(values: frozenset[Any]) -> ColumnElement[bool]:
    # Every clip here is an original: redacted copies arrive with the redaction work.
    return true() if False in values else false()


def _no_case_holders(values: frozenset[Any]) -> ColumnElement[bool]:
    # No clip belongs to a case until cases exist, so no one holds one through a case yet.
    return false()


def _in_units(values: frozenset[Any]) -> ColumnElement[bool]:
    return Clip.officer_id.in_(people.officer_ids_in_units(values)) if values else false()


def _granted(reasons: frozenset[str] | None) -> FactTest:
    def test(values: frozenset[Any]) -> ColumnElement[bool]:
        if not values:
            return false()
        granted = access.granted_record_ids(
            record_kind=GRANT_RECORD_KIND, kind=AccessKind.FOOTAGE_VIEW, user_ids=values, reason_codes=reasons
        )
        return cast(Clip.id, String).in_(granted)

    return test


# Grants of access name a clip as ``footage <clip id>``.
GRANT_RECORD_KIND = "footage"

# How the facts policy's footage rules read are found in the clip table.
CLIP_FACTS: dict[Fact, FactTest] = {
    Fact.OFFICER: is_in(Clip.officer_id),
    Fact.UNIT: _in_units,
    Fact.HELD_FOR_REVIEW: _held_for_review,
    Fact.REDACTED: _original_copy,
    Fact.HOLDERS: _no_case_holders,
    Fact.GRANTEES: _granted(None),
    Fact.CONDUCT_GRANTEES: _granted(access.CONDUCT_REASONS),
}


def clip_facts(db: Session) -> dict[Fact, FactTest]:
    """``CLIP_FACTS`` for a list over many clips: a team's officers named outright, so that
    PostgreSQL reads the officers' index one officer at a time instead of joining every clip in the
    window to the officer table (a supervisor's search at ten million clips: see the benchmark)."""

    def in_units(values: frozenset[Any]) -> ColumnElement[bool]:
        officer_ids = people.officer_id_list_in_units(db, values) if values else []
        if not officer_ids:
            return false()
        if db.get_bind().dialect.name == "postgresql":
            # One array parameter: the statement reads the same for every team, so it is compiled
            # once and prepared, where a list of a unit's several hundred ids is a new text each time.
            return Clip.officer_id == any_(bindparam(None, officer_ids, type_=ARRAY(Integer)))
        return Clip.officer_id.in_(officer_ids)

    return {**CLIP_FACTS, Fact.UNIT: in_units}


def grant_record(clip: Clip) -> access.AccessRecord:
    """The record a grant of access to ``clip`` names."""
    return access.AccessRecord(GRANT_RECORD_KIND, str(clip.id))


def clip_record(clip: Clip, *, unit_id: int | None = None, grantees: dict[int, str] | None = None) -> Record:
    """A clip as policy's record rules see it: whose it is, the unit they serve in, and who holds a
    live grant to view it (with each grant's reason code)."""
    grantees = grantees or {}
    return Record(
        kind=RecordKind.FOOTAGE,
        id=clip.sha256,
        officer_id=clip.officer_id,
        unit_id=unit_id,
        held_for_review=clip.review_reason is not None and clip.officer_id is None,
        grantee_user_ids=frozenset(grantees),
        conduct_grantee_user_ids=frozenset(u for u, r in grantees.items() if r in access.CONDUCT_REASONS),
    )


def viewer(db: Session, actor: Actor) -> Actor:
    """``actor`` with the facts footage's record rules read that the sign-in does not carry: the
    units a supervisor supervises."""
    units = people.supervised_unit_ids(db, actor)
    return replace(actor, supervised_unit_ids=units) if units != actor.supervised_unit_ids else actor


@dataclass(frozen=True)
class ClipView:
    """A clip with the collar number of the officer it is attributed to."""

    clip: Clip
    collar_number: str | None


def clip_view(db: Session, clip: Clip) -> ClipView:
    """``clip`` with its officer's collar number."""
    officers = people.officers_by_ids(db, [clip.officer_id] if clip.officer_id is not None else [])
    officer = officers.get(clip.officer_id) if clip.officer_id is not None else None
    return ClipView(clip, officer.collar_number if officer is not None else None)


def checked_sha256(value: str) -> str:
    """``value`` as a lower-case SHA-256 hex digest, or ``InvalidInput`` saying what one looks like."""
    digest = value.strip().lower()
    if not SHA256_HEX.match(digest):
        raise InvalidInput("sha256", "A SHA-256 digest is 64 hexadecimal characters (0-9, a-f).")
    return digest


ARRIVALS_SHOWN = 50


def list_arrivals(db: Session, actor: Actor, *, limit: int = ARRIVALS_SHOWN) -> list[ClipView]:
    """The clips most recently received and not deleted, newest first, as metadata only; each view
    is audited with the clips it showed."""
    clips = list(
        db.scalars(
            select(Clip)
            .where(Clip.deleted_at.is_(None))
            .order_by(Clip.created_at.desc(), Clip.id.desc())
            .limit(limit)
        )
    )
    officers = people.officers_by_ids(db, (c.officer_id for c in clips if c.officer_id is not None))
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FOOTAGE_ARRIVALS_VIEWED,
        target=Target("footage_arrivals", "recent"),
        details={
            "clip_ids": [c.id for c in clips],
            "subject_officer_ids": sorted({c.officer_id for c in clips if c.officer_id is not None}),
        },
    )
    return [
        ClipView(c, officers[c.officer_id].collar_number if c.officer_id in officers else None) for c in clips
    ]


def get_clip_by_sha256(db: Session, sha256: str) -> Clip | None:
    """The clip with this content, for the system's own work (no record scope, no audit)."""
    return db.scalar(select(Clip).where(Clip.sha256 == sha256))


@dataclass(frozen=True)
class Attribution:
    """Whose clip it is, or why it is held for review."""

    officer_id: int | None
    collar_number: str | None
    review_reason: str | None


def attribute(db: Session, *, camera_serial: str, recorded_at: Any) -> Attribution:
    """The officer who held the camera when it recorded, from fleet's issue history; a camera not in
    the fleet, or one nobody held then, holds the clip for review."""
    device = fleet.get_device(db, camera_serial) if camera_serial else None
    if device is None or device.kind != "camera":
        return Attribution(None, None, "unknown_camera")
    holder = fleet.holder_at(db, camera_serial, recorded_at)
    if holder is None:
        return Attribution(None, None, "no_holder")
    return Attribution(holder.officer_id, holder.collar_number, None)


def note_claim(db: Session, who: Attribution, claimed_user_id: str | None) -> dict[str, Any] | None:
    """What to note when the source says who recorded (an Axis user's ID, the collar number where the
    body worn manager holds one) and that is not the issue history's holder: the claim, the officer
    it names if any, and the holder. ``finding`` is ``disputed`` where the source names another of
    our officers than the one who held the camera, ``unrecognised`` where it names no officer of ours
    (an ID only the camera system knows: nothing to dispute), ``unattributed`` where the clip is held
    for review (the named officer is only a suggestion). Attribution itself comes only from the issue
    history."""
    claimed = (claimed_user_id or "").strip()
    if not claimed or (who.collar_number is not None and claimed.upper() == who.collar_number.upper()):
        return None
    named = people.get_officer(db, claimed)
    if who.officer_id is None:
        finding = "unattributed"
    elif named is None:
        finding = "unrecognised"
    else:
        finding = "disputed"
    return {
        "finding": finding,
        "claimed_user_id": claimed[:100],
        "claimed_officer_id": named.id if named is not None else None,
        "claimed_collar_number": named.collar_number if named is not None else None,
        "holder_officer_id": who.officer_id,
        "holder_collar_number": who.collar_number,
    }


# Reviewers told of every clip needing them besides professional standards, who read every alert.
REVIEWER_ROLE = Role.EVIDENCE_MANAGER
_REVIEWERS_PAGE = 500


def raise_alert(
    db: Session, *, rule: str, target: Target, summary: str, event: Any, link: str | None = None
) -> None:
    """An alert for professional standards (an ``audit:alert:raised`` event citing ``event``, listed
    with the misuse alerts) and a notification to each evidence manager, once per fact."""
    db.flush()
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.AUDIT_ALERT_RAISED,
        target=target,
        details={
            "rule": rule,
            "subject": f"{target.kind}:{target.id}",
            "summary": summary,
            "event_ids": [event.id],
        },
    )
    notices = []
    offset = 0
    while True:
        accounts, total = people.list_accounts(
            db, search=None, role=REVIEWER_ROLE, limit=_REVIEWERS_PAGE, offset=offset
        )
        notices += [
            notifications.Notice(
                key=f"footage:{rule}:{target.kind}:{target.id}:user:{account.id}",
                kind=rule,
                recipient="user",
                user_id=account.id,
                message=summary,
                link=link,
            )
            for account in accounts
            if account.is_active
        ]
        offset += _REVIEWERS_PAGE
        if offset >= total:
            break
    notifications.notify(db, notices)


def stored_objects(db: Session) -> dict[str, str | None]:
    """Every object the footage rows name, with the SHA-256 its bytes must have: each clip, and each
    quarantined delivery (the bytes as received); and each clip's poster and thumbnail strip, whose
    hashes no row records. A destroyed clip names none: its objects are deleted."""
    kept = Clip.destroyed_at.is_(None)
    clips = db.execute(select(Clip.storage_key, Clip.sha256).where(kept)).all()
    quarantined = db.execute(
        select(ClipSource.quarantine_key, ClipSource.received_sha256).where(
            ClipSource.quarantine_key.is_not(None)
        )
    ).all()
    expected: dict[str, str | None] = {
        key: sha256 for key, sha256 in [*clips, *quarantined] if key is not None
    }
    for poster, thumbnails in db.execute(select(Clip.poster_key, Clip.thumbnails_key).where(kept)):
        expected.update({key: None for key in (poster, thumbnails) if key is not None})
    return expected
