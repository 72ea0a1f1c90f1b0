"""How one person stands to another, for the audit log's misuse rules (``audit.misuse.FootageRelation``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv.people.service import get_account, officers_by_ids


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
