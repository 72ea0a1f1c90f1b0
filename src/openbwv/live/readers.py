"""The readers a media server let in under a live view.

MediaMTX asks openbwv about a reader once, as it connects (``mediamtx.admit``), and never again, so
each read it lets in is remembered (:func:`remember_read`) with MediaMTX's id of its session, to be
closed once its view is no longer live. A read MediaMTX gave no id it can kick by is kept, with no
id, but cannot be closed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.live.mediamtx_api import kickable_id
from openbwv.live.models import MediaServerRead


def remember_read(
    db: Session, *, view_id: int, protocol: str, connection_id: str | None, path: str
) -> MediaServerRead:
    """Keep a read the media server let in under the live view ``view_id``, to close it when the view
    is no longer live; without an id MediaMTX can kick by, it is kept but cannot be closed."""
    read = MediaServerRead(
        view_id=view_id,
        connection_id=kickable_id(protocol, connection_id),
        protocol=protocol,
        path=path,
        admitted_at=clock.now(),
        kick_attempts=0,
    )
    db.add(read)
    return read
