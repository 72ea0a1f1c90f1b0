"""How one person stands to another: for the audit log's misuse rules (``audit.misuse.FootageRelation``)
and for notifications to a unit's supervisors (``notifications.UnitOfOfficer``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv.people.service import get_account, get_officer_by_id, officers_by_ids


def footage_relation(db: Session, username: str, subject_officer_id: int) -> str | None:
    """``"self"`` when the user is the officer, ``"colleague"`` when they serve in the same unit, else None."""
    account = get_account(db, username)
    if account is None or account.officer_id is None:
        return None
    if account.officer_id == subject_officer_id:
        return "self"
    officers = officers_by_ids(db, [account.officer_id, subject_officer_id])
    viewer, subject = officers.get(account.officer_id), officers.get(subject_officer_id)
    if viewer is not None and subject is not None and viewer.unit_id == subject.unit_id:
        return "colleague"
    return None


def unit_of_officer(db: Session, officer_id: int) -> int | None:
    """The unit the officer serves in, or None for an unknown officer."""
    officer = get_officer_by_id(db, officer_id)
    return None if officer is None else officer.unit_id
