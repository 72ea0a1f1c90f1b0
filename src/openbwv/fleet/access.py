"""Who may see an officer's kit and training: staff with the permission, or the officer themselves."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from openbwv import people
from openbwv.errors import NotFound
from openbwv.policy import Actor, Permission, can


def visible_officer(db: Session, actor: Actor, collar_number: str, *, permission: Permission) -> Any:
    """The officer, when ``actor`` holds ``permission`` or is that officer; hidden records are 404."""
    officer = people.get_officer(db, collar_number)
    if officer is None or not (can(actor, permission) or actor.officer_id == officer.id):
        raise NotFound("officer")
    return officer
