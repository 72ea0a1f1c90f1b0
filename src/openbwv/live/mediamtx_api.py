"""Closing a reader's session on MediaMTX, through its control API (v3).

MediaMTX's API kicks a session or connection by its id with ``POST /v3/<list>/kick/<id>``, a list
per server: ``rtspsessions``, ``rtspssessions``, ``rtmpconns``, ``rtmpsconns``, ``webrtcsessions``,
``srtconns``, ``hlssessions`` (MediaMTX 1.18 on; before it an HLS reader has no id) and
``moqsessions``. It answers 200 once the session is closed and 404 when it has no such session (or
that server is off); a 404 from every list that could hold it means the reader is already gone, and
any other answer (a redirect included) is a failure.

Its authentication hook names a reader's protocol ``rtsp`` over RTSP and RTSPS alike, and ``rtmp``
over RTMP and RTMPS, so such a reader is kicked from the plain server's list and, when that has no
such session, from the TLS server's; ids are UUIDs, unique across servers. MediaMTX asks the
authentication hook about the API too, which openbwv refuses: the force's MediaMTX excludes the
``api`` action from it (``authHTTPExclude``) and serves the API on a private address only.

The live domain uses a :class:`MediaServerControl`; :func:`media_server_control` gives MediaMTX's
for ``OPENBWV_MEDIAMTX_API_URL``, or None where there is no media server.
"""

from __future__ import annotations

import uuid
from typing import Protocol
from urllib.parse import quote

import requests

# A kick is one short request on the force's own network; a slow answer is retried on a later run.
TIMEOUT_SECONDS = 3.0
KICK_LISTS: dict[str, tuple[str, ...]] = {
    "rtsp": ("rtspsessions", "rtspssessions"),
    "rtsps": ("rtspssessions",),
    "rtmp": ("rtmpconns", "rtmpsconns"),
    "rtmps": ("rtmpsconns",),
    "webrtc": ("webrtcsessions",),
    "srt": ("srtconns",),
    "hls": ("hlssessions",),
    "moq": ("moqsessions",),
}


class KickFailed(Exception):
    """The media server did not close the session, nor say it was gone; try again later."""


class MediaServerControl(Protocol):
    """Where openbwv tells the media server to close a reader's session."""

    def kick(self, protocol: str, connection_id: str) -> None:
        """Close the session; return once it is closed or the server says it has no such session;
        raise :class:`KickFailed` otherwise."""
        ...


def kickable_id(protocol: str, connection_id: str | None) -> str | None:
    """The id by which MediaMTX can close this reader: its id when it is a UUID of a protocol
    MediaMTX's API kicks, else None (the reader cannot be closed)."""
    if connection_id is None or protocol not in KICK_LISTS:
        return None
    try:
        return str(uuid.UUID(connection_id))
    except ValueError:
        return None


class MediaMTXApi:
    """MediaMTX's control API at ``base_url`` (``http://127.0.0.1:9997``)."""

    def __init__(self, base_url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def kick(self, protocol: str, connection_id: str) -> None:
        """Kick the session from each list of ``protocol`` until one closes it; every 404 means it is
        already gone."""
        lists = KICK_LISTS.get(protocol)
        if lists is None:
            raise KickFailed(f"MediaMTX's API has no kick for {protocol!r}")
        for name in lists:
            # The path alone in messages: the API's address may carry credentials.
            path = f"/v3/{name}/kick/{quote(connection_id, safe='')}"
            try:
                answer = requests.post(self.base_url + path, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as error:
                raise KickFailed(f"POST {path}: {type(error).__name__}") from error
            if 200 <= answer.status_code < 300:
                return
            if answer.status_code != 404:
                raise KickFailed(f"POST {path} answered {answer.status_code}")


def media_server_control(api_url: str) -> MediaServerControl | None:
    """MediaMTX's control API at ``api_url``; None when it is empty (no media server, nothing to close)."""
    return MediaMTXApi(api_url) if api_url else None
