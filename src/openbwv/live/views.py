"""Live view: watching a recording camera, only for a stated operational reason, for a limited time.

A live view is a grant of access (``openbwv.access``) of kind ``live_view`` to the record
``camera <serial>``: the viewer states a reason code the force permits for live view and an
incident number or details; the grant expires after the force's view length unless its viewer
renews it, and ends when the viewer (or professional standards) ends it. Opening, renewing and
ending are the grant's audit events, each with the stated reason, the camera's serial and the
officer holding the camera (the subject). A reason that forbids live view (independent scrutiny of
use of force or of stop and search) is refused naming the rule.

Whether a camera is recording comes from the live telemetry's latest state
(``telemetry.LatestRecordingState``), through the ``RecordingState`` port; a test or another source
takes its place with :func:`provide_recording_state`. A camera silent for longer than the state is
trusted is not known to be recording, so no view of it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from openbwv import access, audit, clock, fleet
from openbwv.access import AccessGrant, AccessKind, AccessReason, AccessRecord, GrantDurations
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.live import telemetry
from openbwv.policy import Actor, Permission, can

KIND = AccessKind.LIVE_VIEW
RECORD_KIND = "camera"
BANNER = (
    "This live view is audited: your name, the camera, the officer wearing it, your reason and "
    "every renewal are recorded and monitored for unauthorised use."
)


class RecordingState(Protocol):
    """Whether a camera is recording now, from its latest telemetry: True or False, or None when
    nothing is known of it (no telemetry yet, or too old to trust)."""

    def is_recording(self, db: Session, serial: str) -> bool | None: ...


_recording_state: RecordingState = telemetry.LatestRecordingState()


def provide_recording_state(source: RecordingState) -> RecordingState:
    """Register where live view asks whether a camera is recording (the telemetry's latest state);
    the source registered before, for a caller that puts it back."""
    global _recording_state
    previous, _recording_state = _recording_state, source
    return previous


def recording_state() -> RecordingState:
    """The registered source of cameras' recording state."""
    return _recording_state


@dataclass(frozen=True)
class ViewOptions:
    """The force's choices: how long a view lasts (and each renewal extends it to), where the viewer's
    player reads the stream, and whether the officer's camera is told it is being viewed."""

    minutes: int = 10
    stream_url: str = "/api/v1/live/views/{view_id}/stream"
    notify_camera: bool = False

    @property
    def durations(self) -> GrantDurations:
        length = timedelta(minutes=self.minutes)
        return GrantDurations(default=length, maximum=length)


@dataclass(frozen=True)
class ViewRequest:
    """What the viewer states: the camera, a reason code, and an incident number or details."""

    camera_serial: str
    reason_code: str
    incident_number: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class LiveView:
    id: int
    camera_serial: str
    viewer: str
    reason_code: str
    incident_number: str | None
    details: str | None
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    renewed_count: int
    state: str
    stream_url: str | None
    """Only while the view is live."""
    banner: str = BANNER


@dataclass(frozen=True)
class LiveReason:
    code: str
    label: str
    description: str
    permits_live_view: bool
    forbids_live_view: bool


def _live_view(grant: AccessGrant, options: ViewOptions) -> LiveView:
    state = access.grant_state(grant)
    url = options.stream_url.format(view_id=grant.id, serial=grant.record_id) if state == "live" else None
    return LiveView(
        id=grant.id,
        camera_serial=grant.record_id,
        viewer=grant.username,
        reason_code=grant.reason_code,
        incident_number=grant.incident_number,
        details=grant.note,
        started_at=grant.granted_at,
        expires_at=grant.expires_at,
        ended_at=grant.ended_at,
        renewed_count=grant.renewed_count,
        state=state,
        stream_url=url,
    )


def _subject(db: Session, serial: str) -> dict[str, object]:
    """The audit details naming the camera and the officer holding it now (the one being watched)."""
    holder = fleet.holder_at(db, serial, clock.now())
    return {
        "camera_serial": serial,
        "subject_officer_id": holder.officer_id if holder else None,
        "subject_collar_number": holder.collar_number if holder else None,
    }


def check_recording(db: Session, serial: str, recording: RecordingState) -> None:
    """Refuse (409, ``camera_not_recording``) unless ``serial``'s latest telemetry says it records:
    no live view opens, and no live stream is taken, of a camera that is not recording."""
    _check_recording(db, serial, recording)


def _check_recording(db: Session, serial: str, recording: RecordingState) -> None:
    state = recording.is_recording(db, serial)
    if state is not True:
        known = "is not recording" if state is False else "has not reported that it is recording"
        raise Conflict(
            f"Camera {serial} {known}: live view is only of a recording camera.", rule="camera_not_recording"
        )


def list_live_reasons(db: Session) -> list[LiveReason]:
    """The force's reason codes in use, each with whether it permits or forbids live view."""
    return [_live_reason(reason) for reason in access.list_reasons(db, include_inactive=False)]


def _live_reason(reason: AccessReason) -> LiveReason:
    return LiveReason(
        code=reason.code,
        label=reason.label,
        description=reason.description,
        permits_live_view=KIND in reason.permits,
        forbids_live_view=KIND in reason.forbids,
    )


def open_view(
    db: Session, actor: Actor, *, request: ViewRequest, recording: RecordingState, options: ViewOptions
) -> LiveView:
    """Open a live view of a recording camera for the stated reason: an incident number or details
    are required (422); a reason the force forbids or does not permit for live view is refused (403,
    naming the rule); a camera not in the fleet is not found; one that is not recording is refused
    (409). The grant and its audit event name the reason, the camera and the officer holding it."""
    if not (request.incident_number or "").strip() and not (request.details or "").strip():
        raise InvalidInput(
            "incident_number", "give an incident number, or details saying why you need live view"
        )
    access.check_reason_for(db, request.reason_code, KIND, field="reason_code")
    device = fleet.get_device(db, request.camera_serial)
    if device is None or device.kind != "camera":
        raise NotFound("camera")
    _check_recording(db, device.serial, recording)
    grant = access.grant_access(
        db,
        actor,
        record=AccessRecord(RECORD_KIND, device.serial),
        kind=KIND,
        reason_code=request.reason_code,
        incident_number=request.incident_number,
        note=request.details,
        durations=options.durations,
        details=_subject(db, device.serial),
    )
    db.flush()
    return _live_view(grant, options)


def _view_grant(db: Session, actor: Actor, view_id: int, *, overseer_may: bool = False) -> AccessGrant:
    """The live view's grant when it is the caller's own (or, with ``overseer_may``, anyone's for
    professional standards); anyone else's, or another kind of grant, is not found."""
    grant = access.get_grant(db, actor, view_id)
    if grant is None or grant.kind != KIND or grant.record_kind != RECORD_KIND:
        raise NotFound("live view")
    own = grant.user_id == actor.user_id
    if not own and not (overseer_may and can(actor, Permission.ACCESS_GRANT_OVERSEE)):
        raise NotFound("live view")
    return grant


def get_view(db: Session, actor: Actor, view_id: int, *, options: ViewOptions) -> LiveView | None:
    """The caller's own live view, live or not; None when it is missing or someone else's."""
    try:
        return _live_view(_view_grant(db, actor, view_id), options)
    except NotFound:
        return None


def renew_view(
    db: Session, actor: Actor, view_id: int, *, recording: RecordingState, options: ViewOptions
) -> LiveView:
    """Extend the caller's live view by the force's view length from now, under the same reason,
    while the camera is still recording; audited with the reason."""
    grant = _view_grant(db, actor, view_id)
    _check_recording(db, grant.record_id, recording)
    grant = access.renew_grant(
        db,
        actor,
        grant_id=grant.id,
        durations=options.durations,
        details=_subject(db, grant.record_id),
    )
    return _live_view(grant, options)


def end_view(db: Session, actor: Actor, view_id: int, *, options: ViewOptions) -> LiveView:
    """End a live view now: the caller's own, or anyone's for professional standards; audited."""
    grant = _view_grant(db, actor, view_id, overseer_may=True)
    grant = access.end_grant(db, actor, grant_id=grant.id, details=_subject(db, grant.record_id))
    return _live_view(grant, options)


def view_to_stream(db: Session, actor: Actor, view_id: int, *, options: ViewOptions) -> LiveView:
    """The caller's own live view, while it is live: another's or a missing one is not found, and
    one that has expired or been ended is refused (409, ``view_not_live``) naming which."""
    view = _live_view(_view_grant(db, actor, view_id), options)
    if view.state != "live":
        raise Conflict(f"The live view has {view.state}: open a new one to watch.", rule="view_not_live")
    return view


def record_stream_read(
    db: Session, actor: Actor, view: LiveView, *, transport: str, details: dict[str, object] | None = None
) -> None:
    """Audit that the viewer began reading the camera's stream under ``view`` (once per connection,
    not per fragment), with the view's reason and incident."""
    audit.record(
        db,
        actor=actor,
        action=AuditAction.LIVE_STREAM_READ,
        target=Target(RECORD_KIND, view.camera_serial),
        reason=view.reason_code,
        details={
            "view_id": view.id,
            "reason_code": view.reason_code,
            "incident_number": view.incident_number,
            "transport": transport,
            **_subject(db, view.camera_serial),
            **(details or {}),
        },
    )


def being_viewed(view: LiveView) -> dict[str, object]:
    """The message telling the officer's camera it is being viewed, and until when."""
    return {"type": "being_viewed", "view_id": view.id, "until": view.expires_at.isoformat()}


def viewing_ended(view: LiveView) -> dict[str, object]:
    """The message telling the officer's camera a view of it has ended."""
    return {"type": "viewing_ended", "view_id": view.id}
