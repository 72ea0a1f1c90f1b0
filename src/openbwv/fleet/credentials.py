"""Device credentials for cameras and docks: which device may do what, issued and revoked by the
equipment manager.

A camera uploads its footage, reports its health and streams live (``upload``, ``telemetry``,
``live_ingest``); a dock uploads the footage of the cameras in it and reports its own state
(``upload``, ``telemetry``) but never streams. A Taser does not sign in: its dock speaks for it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv import auth
from openbwv.auth import DeviceCredential
from openbwv.errors import Conflict, NotFound
from openbwv.fleet.devices import get_device
from openbwv.fleet.models import Device
from openbwv.policy import Actor, DeviceScope

SCOPES_BY_KIND: dict[str, frozenset[DeviceScope]] = {
    "camera": frozenset({DeviceScope.UPLOAD, DeviceScope.TELEMETRY, DeviceScope.LIVE_INGEST}),
    "dock": frozenset({DeviceScope.UPLOAD, DeviceScope.TELEMETRY}),
}


def _device(db: Session, serial: str) -> Device:
    device = get_device(db, serial)
    if device is None:
        raise NotFound("device")
    return device


def issue_credential(db: Session, actor: Actor, *, serial: str) -> tuple[Device, str]:
    """A new credential for a camera or dock, replacing the one it had; returns the device and the
    credential, whose only copy the caller now holds."""
    device = _device(db, serial)
    scopes = SCOPES_BY_KIND.get(device.kind)
    if scopes is None:
        raise Conflict(
            f"{device.serial} is a {device.kind}; only cameras and docks sign in with a credential.",
            rule="device_cannot_sign_in",
        )
    if device.state == "retired":
        raise Conflict(f"{device.serial} is retired; it gets no credential.", rule="device_retired")
    raw = auth.issue_device_credential(db, actor, device_id=device.id, serial=device.serial, scopes=scopes)
    return device, raw


def revoke_credential(db: Session, actor: Actor, *, serial: str) -> DeviceCredential:
    """Stop the device's credential working at once."""
    device = _device(db, serial)
    return auth.revoke_device_credential(db, actor, device_id=device.id, serial=device.serial)


def credential_of(db: Session, device: Device) -> DeviceCredential | None:
    """The device's live credential (when issued and last used, its scopes), if it has one."""
    return auth.live_device_credential(db, device.id)
