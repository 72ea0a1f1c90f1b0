"""Device credentials: what lets a camera or dock call the device routes as itself.

A credential is ``obwvd_`` and 43 random URL-safe characters; the prefix tells the caller
resolution to look here rather than among people's tokens. Only its SHA-256 is stored. The
domain that knows devices (fleet) decides which device gets which scopes and calls these
functions; this module only keeps, resolves and revokes credentials.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.auth.models import DeviceCredential
from openbwv.db import refusing_duplicates
from openbwv.errors import Conflict
from openbwv.policy import Actor, DeviceScope, device_actor

DEVICE_CREDENTIAL_PREFIX = "obwvd_"


def is_device_credential(raw: str) -> bool:
    return raw.startswith(DEVICE_CREDENTIAL_PREFIX)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def live_device_credential(
    db: Session, device_id: int, *, for_update: bool = False
) -> DeviceCredential | None:
    """The device's unrevoked credential, if it has one."""
    query = select(DeviceCredential).where(
        DeviceCredential.device_id == device_id, DeviceCredential.revoked_at.is_(None)
    )
    return db.scalar(query.with_for_update() if for_update else query)


def _revoke(db: Session, actor: Actor, credential: DeviceCredential, *, replaced: bool) -> None:
    credential.revoked_at = clock.now()
    credential.revoked_by = actor.username
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.AUTH_DEVICE_CREDENTIAL_REVOKED,
        target=Target("device", credential.device_serial),
        details={"issued_at": credential.issued_at.isoformat(), "replaced": replaced},
    )


def issue_device_credential(
    db: Session, actor: Actor, *, device_id: int, serial: str, scopes: frozenset[DeviceScope]
) -> str:
    """A new credential for the device, revoking the one it had; the caller gets the only copy."""
    current = live_device_credential(db, device_id, for_update=True)
    if current is not None:
        _revoke(db, actor, current, replaced=True)
    raw = DEVICE_CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    credential = DeviceCredential(
        device_id=device_id,
        device_serial=serial,
        secret_hash=_digest(raw),
        scopes=" ".join(sorted(scopes)),
        issued_at=clock.now(),
        issued_by=actor.username,
    )
    # Two managers issuing at the same moment: one wins, the other is told to look again.
    raced = Conflict(
        f"A credential for {serial} was issued at the same moment; reload and try again.",
        rule="device_credential_live",
    )
    with refusing_duplicates(db, {"uq_device_credential_live": raced}):
        db.add(credential)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.AUTH_DEVICE_CREDENTIAL_ISSUED,
        target=Target("device", serial),
        details={"scopes": sorted(scopes)},
    )
    return raw


def revoke_device_credential(db: Session, actor: Actor, *, device_id: int, serial: str) -> DeviceCredential:
    """Stop the device's credential working at once; a device with none is refused."""
    current = live_device_credential(db, device_id, for_update=True)
    if current is None:
        raise Conflict(f"{serial} has no credential to revoke.", rule="no_device_credential")
    _revoke(db, actor, current, replaced=False)
    return current


def resolve_device_credential(db: Session, raw: str) -> Actor | None:
    """The device a live credential belongs to, or None if it is unknown or revoked."""
    row = db.execute(
        select(DeviceCredential.device_serial, DeviceCredential.scopes).where(
            DeviceCredential.secret_hash == _digest(raw), DeviceCredential.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    serial, scopes = row
    return device_actor(serial, frozenset(DeviceScope(s) for s in scopes.split()))


def note_device_credential_used(db: Session, actor: Actor) -> None:
    """Record when the calling device's credential was last used, in the caller's transaction."""
    if actor.device_serial is None:
        return
    db.execute(
        update(DeviceCredential)
        .where(DeviceCredential.device_serial == actor.device_serial, DeviceCredential.revoked_at.is_(None))
        .values(last_used_at=clock.now())
    )
