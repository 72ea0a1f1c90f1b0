"""The Axis Body Worn Integration API: the OpenStack Swift subset an Axis body worn system uploads to.

``GET /api/axis/auth/v1.0`` signs the system in; its account, containers and objects are under
``/api/axis/v1/{account}``, called with the ``X-Auth-Token`` it got (or its device credential as a
bearer token). Errors keep the platform's ``{"detail": ...}`` body; the status codes are the API's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from openbwv import clock
from openbwv.axis import names, service, transfer
from openbwv.axis.models import AxisContainer, AxisObject
from openbwv.axis.names import CONTAINER_META, OBJECT_META
from openbwv.db import Db, SessionFactory, get_session_factory, reading, transaction
from openbwv.errors import ErrorOut, NotFound, OpenbwvError, TooLarge, Unauthenticated, error_responses
from openbwv.policy import Actor, DeviceScope, Public, RequireDeviceScope, current_actor
from openbwv.storage import store_of

# Every answer the API's text prescribes besides success, in the platform's error shape.
SWIFT_ERRORS: dict[int | str, dict[str, Any]] = {
    **error_responses(400, 401, 403, 404, 413, 422),
    503: {"model": ErrorOut, "description": "Too many uploads at once; try again soon."},
    507: {"model": ErrorOut, "description": "Out of disk space or over the Axis quota."},
}
router = APIRouter(prefix="/api/axis", tags=["axis"], responses=SWIFT_ERRORS)
ACCOUNT = "/v1/{account}"
CONTAINER = ACCOUNT + "/{container}"
OBJECT = CONTAINER + "/{name:path}"
MIB = 1024 * 1024
T = TypeVar("T")
TEXT_OR_JSON = {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": {}}}
ANY_BYTES = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


def swift_caller(
    request: Request, x_auth_token: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Actor:
    """The Axis system an ``X-Auth-Token`` signs in, or whoever a bearer token or session does."""
    if x_auth_token and x_auth_token.strip():
        with reading(get_session_factory(request)) as db:
            actor = service.resolve_token(db, x_auth_token.strip())
        if actor is None:
            raise Unauthenticated("The X-Auth-Token is unknown or has expired; sign in again.")
        return actor
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    return current_actor(request, bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else None)


class RequireSwiftDevice(RequireDeviceScope):
    """A device scope for Swift routes, whose caller signs in with ``X-Auth-Token``."""

    credential_header = "x-auth-token"

    # Only the default differs: the caller comes from the Swift header first.
    def __call__(self, request: Request, actor: Actor = Depends(swift_caller)) -> Actor:
        return super().__call__(request, actor)


AxisSystem = Annotated[Actor, Depends(RequireSwiftDevice(DeviceScope.UPLOAD))]


def _in_transaction(request: Request, work: Callable[[Session], T]) -> Any:
    """Run ``work`` in a short transaction of its own in a worker thread: for routes that stream."""
    factory = get_session_factory(request)

    def run() -> T:
        with transaction(factory) as db:
            return work(db)

    return anyio.to_thread.run_sync(run)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _timestamp(moment: datetime) -> str:
    return f"{moment.timestamp():.5f}"


# Signing in


@router.get(
    "/auth/v1.0",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"description": "Signed in: X-Auth-Token and X-Storage-Url."}},
)
def authenticate(
    request: Request,
    factory: SessionFactory,
    x_auth_user: Annotated[str | None, Header()] = None,
    x_auth_key: Annotated[str | None, Header()] = None,
    x_storage_user: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_storage_pass: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Sign an Axis system in: its serial and device credential give a token and its storage URL."""
    settings = request.app.state.settings
    issued = service.sign_in(
        factory,
        user=x_auth_user or x_storage_user or "",
        key=x_auth_key or x_storage_pass or "",
        ttl=timedelta(minutes=settings.axis_token_minutes),
    )
    storage_url = str(request.url.replace(path=f"{router.prefix}/v1/{quote(issued.account)}", query=""))
    lifetime = int((issued.expires_at - clock.now()).total_seconds())
    return Response(
        status_code=200,
        headers={
            "X-Auth-Token": issued.raw,
            "X-Storage-Token": issued.raw,
            "X-Storage-Url": storage_url,
            "X-Auth-Token-Expires": str(lifetime),
        },
    )


# The account


def _wants_json(request: Request, format: str | None) -> bool:
    return format == "json" or "application/json" in request.headers.get("accept", "")


def _account_headers(stats: list[service.ContainerStat]) -> dict[str, str]:
    return {
        "X-Account-Container-Count": str(len(stats)),
        "X-Account-Object-Count": str(sum(s.count for s in stats)),
        "X-Account-Bytes-Used": str(sum(s.bytes for s in stats)),
    }


@router.get(ACCOUNT, response_class=Response, responses={200: {"content": TEXT_OR_JSON}})
def list_account(
    request: Request, account: str, db: Db, actor: AxisSystem, format: Annotated[str | None, Query()] = None
) -> Response:
    """The account's containers: names one a line, or JSON with ``?format=json``."""
    stats = service.list_containers(db, actor, account=account)
    headers = _account_headers(stats)
    if _wants_json(request, format):
        body = [{"name": s.name, "count": s.count, "bytes": s.bytes} for s in stats]
        return Response(json.dumps(body), media_type="application/json", headers=headers)
    return Response("".join(f"{s.name}\n" for s in stats), media_type="text/plain", headers=headers)


@router.head(ACCOUNT, status_code=204, response_class=Response)
def head_account(account: str, db: Db, actor: AxisSystem) -> Response:
    """How many containers, objects and bytes the account holds."""
    stats = service.list_containers(db, actor, account=account)
    return Response(status_code=204, headers=_account_headers(stats))


# Containers


def _container_headers(container: AxisContainer) -> dict[str, str]:
    return {
        **names.meta_headers(container.meta, CONTAINER_META),
        "X-Timestamp": _timestamp(container.created_at),
        "Last-Modified": _http_date(container.updated_at),
    }


@router.put(
    CONTAINER, status_code=201, response_class=Response, responses={202: {"description": "Metadata updated."}}
)
def put_container(request: Request, account: str, container: str, db: Db, actor: AxisSystem) -> Response:
    """Create a container (201), or update the metadata of one that exists (202)."""
    meta = names.meta_from_headers(request.headers.items(), CONTAINER_META)
    _, created = service.put_container(db, actor, account=account, name=container, meta=meta)
    return Response(status_code=201 if created else 202)


@router.post(CONTAINER, status_code=204, response_class=Response)
def post_container(request: Request, account: str, container: str, db: Db, actor: AxisSystem) -> Response:
    """Update a container's metadata; ``X-Container-Meta-Status: Complete`` closes a recording and
    hands its clips to footage ingest."""
    meta = names.meta_from_headers(request.headers.items(), CONTAINER_META)
    service.update_container(db, actor, account=account, name=container, meta=meta)
    return Response(status_code=204)


def _listing(request: Request, objects: list[AxisObject], format: str | None) -> tuple[str, str]:
    if _wants_json(request, format):
        body = [
            {
                "name": o.name,
                "bytes": o.size,
                "hash": o.md5,
                "content_type": o.content_type,
                "last_modified": o.stored_at.replace(tzinfo=None).isoformat(),
            }
            for o in objects
        ]
        return json.dumps(body), "application/json"
    return "".join(f"{o.name}\n" for o in objects), "text/plain"


@router.get(CONTAINER, response_class=Response, responses={200: {"content": TEXT_OR_JSON}})
def list_container(
    request: Request,
    account: str,
    container: str,
    db: Db,
    actor: AxisSystem,
    format: Annotated[str | None, Query()] = None,
    prefix: Annotated[str, Query(max_length=names.MAX_OBJECT_NAME)] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
) -> Response:
    """A container's objects: names one a line, or JSON with ``?format=json``."""
    found = service.get_container(db, actor, account=account, name=container)
    if found is None:
        raise NotFound("container")
    objects = service.list_objects(
        db, actor, account=account, container=container, prefix=prefix, limit=limit
    )
    body, media_type = _listing(request, objects, format)
    headers = {
        **_container_headers(found),
        "X-Container-Object-Count": str(len(objects)),
        "X-Container-Bytes-Used": str(sum(o.size for o in objects)),
    }
    return Response(body, media_type=media_type, headers=headers)


@router.head(CONTAINER, status_code=204, response_class=Response)
def head_container(account: str, container: str, db: Db, actor: AxisSystem) -> Response:
    """A container's metadata."""
    found = service.get_container(db, actor, account=account, name=container)
    if found is None:
        raise NotFound("container")
    return Response(status_code=204, headers=_container_headers(found))


# Objects


def _object_headers(stored: AxisObject) -> dict[str, str]:
    return {
        **names.meta_headers(stored.meta, OBJECT_META),
        "ETag": stored.md5,
        "Content-Type": stored.content_type,
        "Content-Length": str(stored.size),
        "X-Timestamp": _timestamp(stored.stored_at),
        "Last-Modified": _http_date(stored.stored_at),
    }


def _capability_headers() -> dict[str, str]:
    return {
        "ETag": names.CAPABILITIES_MD5,
        "Content-Type": "application/json",
        "Content-Length": str(len(names.CAPABILITIES)),
    }


def _is_capability_file(container: str, name: str) -> bool:
    return container == names.SYSTEM and name in names.CAPABILITY_NAMES


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


@router.put(OBJECT, status_code=201, response_class=Response)
async def put_object(
    request: Request, account: str, container: str, name: str, actor: AxisSystem
) -> Response:
    """Store an object, streamed: its MD5 is checked against ``ETag`` (422 on a mismatch), 503 when
    too many uploads run, 507 when storage is full. No database session is held while bytes flow."""
    settings = request.app.state.settings
    meta = names.meta_from_headers(request.headers.items(), OBJECT_META)
    expected = transfer.expected_md5(request.headers.get("etag"))
    declared = _declared_length(request)
    store = store_of(request.app.state)
    with transfer.upload_slots(request.app.state, settings.axis_max_uploads).taken():
        planned: service.PlannedPut = await _in_transaction(
            request,
            lambda db: service.plan_object_put(
                db,
                actor,
                account=account,
                container=container,
                name=name,
                meta=meta,
                declared_length=declared,
                quota_bytes=settings.axis_quota_mib * MIB,
            ),
        )
        transfer.check_free_space(store, declared)
        limit = min(
            transfer.MAX_OBJECT_BYTES, planned.room if planned.room is not None else transfer.MAX_OBJECT_BYTES
        )
        try:
            received = await transfer.receive_object(
                request, store, planned.key, expected_md5=expected, limit=limit
            )
        except TooLarge:
            if planned.room is not None and planned.room < transfer.MAX_OBJECT_BYTES:
                raise service.InsufficientStorage("The Axis storage quota is full.") from None
            raise
    content_type = request.headers.get("content-type") or "application/octet-stream"
    try:
        await _in_transaction(
            request,
            lambda db: service.record_object(
                db,
                actor,
                account=account,
                container=container,
                name=name,
                planned=planned,
                size=received.size,
                md5=received.md5,
                sha256=received.sha256,
                content_type=content_type,
                meta=meta,
            ),
        )
    except OpenbwvError:
        await store.delete(planned.key)
        raise
    return Response(status_code=201, headers={"ETag": received.md5})


@router.post(OBJECT, status_code=202, response_class=Response)
def post_object(
    request: Request, account: str, container: str, name: str, db: Db, actor: AxisSystem
) -> Response:
    """Replace an object's metadata."""
    meta = names.meta_from_headers(request.headers.items(), OBJECT_META)
    service.update_object_meta(db, actor, account=account, container=container, name=name, meta=meta)
    return Response(status_code=202)


@router.head(OBJECT, response_class=Response)
def head_object(account: str, container: str, name: str, db: Db, actor: AxisSystem) -> Response:
    """An object's metadata, size and MD5 ``ETag``."""
    if _is_capability_file(container, name):
        service.check_account(actor, account)
        return Response(status_code=200, headers=_capability_headers())
    stored = service.get_object(db, actor, account=account, container=container, name=name)
    if stored is None:
        raise NotFound("object")
    return Response(status_code=200, headers=_object_headers(stored))


@router.get(OBJECT, response_class=Response, responses={200: {"content": ANY_BYTES}})
async def get_object(
    request: Request, account: str, container: str, name: str, actor: AxisSystem
) -> Response:
    """An object's bytes; ``System/Capabilities.json`` (or ``Capability.json``) is this content
    destination's capability file, with its MD5 as ``ETag``."""

    def lookup(db: Session) -> AxisObject | None:
        if _is_capability_file(container, name):
            service.check_account(actor, account)
            return None
        stored = service.get_object(db, actor, account=account, container=container, name=name)
        if stored is None:
            raise NotFound("object")
        return stored

    factory = get_session_factory(request)

    def read() -> AxisObject | None:
        with reading(factory) as db:
            return lookup(db)

    stored = await anyio.to_thread.run_sync(read)
    if stored is None:
        return Response(names.CAPABILITIES, headers=_capability_headers())
    store = store_of(request.app.state)
    return StreamingResponse(store.read(stored.storage_key), headers=_object_headers(stored))
