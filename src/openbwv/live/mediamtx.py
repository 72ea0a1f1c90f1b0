"""MediaMTX's external HTTP authentication, answered from openbwv's own rules.

At force scale cameras publish to, and viewers read from, a MediaMTX media server (SRT, RTSP or WHIP
in; WebRTC and LL-HLS out) rather than the embedded relay. MediaMTX asks an HTTP endpoint about each
publisher and reader before letting them in, posting who they are (user and password, or a token),
what they want (``publish`` or ``read``), which path, over which protocol, and the query of their
URL. openbwv's paths are ``cameras/SERIAL``:

- a camera publishes only its own path, signed in with its device credential (as user or password,
  or token), and only while its telemetry says it records;
- a person reads a path only under their own live view of that camera which is live, named by
  ``view=ID`` in the query, signed in with a token of theirs; each read let in is audited with the
  view's reason, as the embedded relay's are;
- everything else (playback, the API, metrics) is refused: openbwv has its own routes for those.

MediaMTX asks once per connection and not again when a view expires or is ended, so each read let
in is also kept with MediaMTX's id of the reader's session (``readers``); once its view has ended,
expired or been ended by professional standards, openbwv tells MediaMTX to close it (its API's kick,
``mediamtx_api``, at ``OPENBWV_MEDIAMTX_API_URL``): at once when the view is ended through live
view's routes, and within seconds from a job otherwise. A read with no id MediaMTX can kick by (HLS
before MediaMTX 1.18, which asks again at every request instead, or a protocol without a kick) is
audited and kept all the same, with no id, and cannot be closed this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import reading, transaction
from openbwv.errors import OpenbwvError
from openbwv.live import readers, views
from openbwv.policy import Actor, DeviceScope, Permission, can, device_may

PATH = re.compile(r"^cameras/(?P<serial>[A-Za-z0-9._-]{1,60})$")
IdentifyCaller = Callable[[sessionmaker[Session], str], "Actor | None"]


@dataclass(frozen=True)
class Asked:
    """One question from MediaMTX, as it posts it."""

    user: str
    password: str
    token: str
    ip: str
    action: str
    path: str
    protocol: str
    connection_id: str | None
    query: str


def _caller(factory: sessionmaker[Session], identify: IdentifyCaller, asked: Asked) -> Actor | None:
    """Who the credentials sign in: the token, else the password (a camera or person puts its
    credential there when its client only knows user and password)."""
    for credential in (asked.token, asked.password):
        if credential:
            actor = identify(factory, credential)
            if actor is not None:
                return actor
    return None


def _view_id(query: str) -> int | None:
    values = parse_qs(query).get("view", [])
    return int(values[0]) if len(values) == 1 and values[0].isdigit() and len(values[0]) < 19 else None


def admit(
    factory: sessionmaker[Session],
    identify: IdentifyCaller,
    asked: Asked,
    recording: views.RecordingState,
    options: views.ViewOptions,
) -> bool:
    """Whether MediaMTX may let this publisher or reader in (a read let in is audited, and kept to
    be closed when its view is no longer live)."""
    match = PATH.match(asked.path)
    if match is None or asked.action not in ("publish", "read"):
        return False
    serial = match["serial"]
    actor = _caller(factory, identify, asked)
    if actor is None:
        return False
    if asked.action == "publish":
        if actor.device_serial != serial or not device_may(actor, DeviceScope.LIVE_INGEST):
            return False
        with reading(factory) as db:
            return recording.is_recording(db, serial) is True
    view_id = _view_id(asked.query)
    if actor.is_device or view_id is None or not can(actor, Permission.LIVE_VIEW_OPEN):
        return False
    try:
        with transaction(factory) as db:
            view = views.view_to_stream(db, actor, view_id, options=options)
            if view.camera_serial != serial:
                return False
            views.record_stream_read(
                db,
                actor,
                view,
                transport=f"media server ({asked.protocol or 'unknown'})",
                details={"client_address": asked.ip, "connection_id": asked.connection_id},
            )
            readers.remember_read(
                db,
                view_id=view.id,
                protocol=asked.protocol,
                connection_id=asked.connection_id,
                path=asked.path,
            )
    except OpenbwvError:
        return False
    return True
