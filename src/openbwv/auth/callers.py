"""Who a credential signs in: a person's bearer or session token, or a device's credential."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from openbwv.auth.devices import is_device_credential, resolve_device_credential
from openbwv.auth.service import resolve_token
from openbwv.db import reading
from openbwv.policy import Actor


def identify_caller(factory: sessionmaker[Session], credential: str) -> Actor | None:
    """The caller ``credential`` signs in, read in a short read-only transaction of its own; a device
    credential's prefix says which table holds it."""
    with reading(factory) as db:
        if is_device_credential(credential):
            return resolve_device_credential(db, credential)
        return resolve_token(db, credential)
