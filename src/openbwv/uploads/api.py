"""tus 1.0.0 at ``/api/v1/uploads``: docks send footage files here, resumably, with their credential.

Core protocol plus the creation, creation-with-upload, termination, expiration and checksum
extensions. ``OPTIONS`` is open to anyone, as clients ask it before they sign anything; every other
route needs a device credential granting ``upload``, and a device sees only its own uploads.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
from fastapi import APIRouter, Request
from starlette.responses import Response

from openbwv import clock
from openbwv.db import Db, get_session_factory, transaction
from openbwv.observability import public_base_url
from openbwv.policy import Actor, DeviceScope, Public, RequireDevice
from openbwv.storage import store_of
from openbwv.uploads import protocol, receiving, service
from openbwv.uploads.metadata import encode_metadata, parse_metadata
from openbwv.uploads.models import Upload, UploadState
from openbwv.web.streams import CapsItsOwnBody

PREFIX = "/api/v1/uploads"
router = APIRouter(prefix=PREFIX, tags=["uploads"], route_class=protocol.TusRoute)

_TUS_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "A header is missing or malformed; the answer says which."},
    401: {"description": "No valid device credential."},
    403: {"description": "The caller is not a device whose credential grants upload."},
    404: {"description": "No such upload, or another device's."},
    409: {"description": "Upload-Offset is not where the upload stands."},
    410: {"description": "The upload was terminated or has expired."},
    412: {"description": "Tus-Resumable is not 1.0.0."},
    413: {"description": "Larger than Tus-Max-Size, or than what is left of the upload."},
    415: {"description": "A PATCH without Content-Type: application/offset+octet-stream."},
    460: {"description": "The bytes do not match Upload-Checksum; none were kept."},
}


def _max_size(request: Request) -> int:
    gib: int = request.app.state.settings.upload_max_gib
    return gib * 1024**3


def _expiry(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.upload_expiry_hours)


def _progress_headers(upload: Upload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    if upload.state == UploadState.RECEIVING:
        headers["Upload-Expires"] = protocol.http_date(upload.expires_at)
    return headers


@router.options("", status_code=204, dependencies=[Public])
def tus_options(request: Request) -> Response:
    """What this tus server speaks: version, extensions, checksum algorithms and largest file."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": protocol.TUS_VERSION,
            "Tus-Extension": ",".join(protocol.EXTENSIONS),
            "Tus-Max-Size": str(_max_size(request)),
            "Tus-Checksum-Algorithm": ",".join(protocol.CHECKSUM_ALGORITHMS),
        },
    )


@router.post("", status_code=201, responses=_TUS_RESPONSES, dependencies=[CapsItsOwnBody])
async def create_upload(request: Request, actor: Actor = RequireDevice(DeviceScope.UPLOAD)) -> Response:
    """Start an upload (``Upload-Length``, ``Upload-Metadata`` with filename, camera_serial,
    recorded_at and sha256), with its first bytes in the body if it is an offset stream; answers its
    ``Location``."""
    protocol.check_version(request)
    length = protocol.upload_length(request, max_size=_max_size(request))
    metadata = parse_metadata(request.headers.get("upload-metadata"))
    with_bytes = protocol.is_offset_stream(request)
    checksum = protocol.upload_checksum(request) if with_bytes else None
    factory = get_session_factory(request)

    def create() -> Upload:
        with transaction(factory) as db:
            return service.create_upload(
                db, actor, length=length, metadata=metadata, now=clock.now(), expiry=_expiry(request)
            )

    upload = await anyio.to_thread.run_sync(create)
    location = f"{public_base_url(request)}{PREFIX}/{upload.id}"
    if with_bytes:
        try:
            upload = await receiving.append(request, actor, upload.id, offset=0, checksum=checksum)
        except protocol.TusError as refusal:
            # The upload exists even though its first bytes were refused: the client may resume it.
            refusal.headers = {**refusal.headers, "Location": location, "Upload-Offset": "0"}
            raise
    return Response(status_code=201, headers={"Location": location, **_progress_headers(upload)})


@router.head("/{upload_id}", responses=_TUS_RESPONSES)
def upload_status(
    upload_id: str, request: Request, db: Db, actor: Actor = RequireDevice(DeviceScope.UPLOAD)
) -> Response:
    """How many bytes of the upload are stored (``Upload-Offset``): where a client resumes; once
    complete, the SHA-256 of the bytes received (``Upload-Sha256``), for the dock to check."""
    protocol.check_version(request)
    upload = service.status_of(db, actor, upload_id, now=clock.now())
    headers = {
        **_progress_headers(upload),
        "Upload-Length": str(upload.length),
        "Upload-Metadata": encode_metadata(upload.metadata_),
        "Cache-Control": "no-store",
    }
    if upload.received_sha256 is not None:
        headers["Upload-Sha256"] = upload.received_sha256
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204, responses=_TUS_RESPONSES, dependencies=[CapsItsOwnBody])
async def append_to_upload(
    upload_id: str, request: Request, actor: Actor = RequireDevice(DeviceScope.UPLOAD)
) -> Response:
    """Append the body at ``Upload-Offset``, checked against ``Upload-Checksum`` if given; answers the
    new offset once the bytes are stored."""
    protocol.check_version(request)
    if not protocol.is_offset_stream(request):
        raise protocol.NotOffsetStream()
    offset = protocol.upload_offset(request)
    checksum = protocol.upload_checksum(request)
    upload = await receiving.append(request, actor, upload_id, offset=offset, checksum=checksum)
    return Response(status_code=204, headers=_progress_headers(upload))


@router.delete("/{upload_id}", status_code=204, responses=_TUS_RESPONSES)
async def terminate_upload(
    upload_id: str, request: Request, actor: Actor = RequireDevice(DeviceScope.UPLOAD)
) -> Response:
    """Terminate an unfinished upload: its stored bytes are deleted and it answers 410 from then on."""
    protocol.check_version(request)
    factory = get_session_factory(request)

    def terminate() -> list[str]:
        with transaction(factory) as db:
            return service.terminate_upload(db, actor, upload_id, now=clock.now())

    keys = await anyio.to_thread.run_sync(terminate)
    await receiving.delete_objects(store_of(request.app.state), [upload_id], keys)
    receiving.running_hashes_of(request.app.state).forget(upload_id)
    return Response(status_code=204)
