"""Whose kit a caller may see: policy's rules on kit records (staff who read the fleet, or the officer)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv import people
from openbwv.policy import Actor, Permission, RecordKind


def get_kit_owner_for(db: Session, actor: Actor, collar_number: str) -> people.Officer | None:
    """The officer, when ``actor`` may see their kit; None when there is no such officer or their kit
    is hidden from the actor."""
    return people.get_officer_for(
        db, actor, collar_number, permission=Permission.FLEET_DEVICE_READ, kind=RecordKind.KIT
    )
