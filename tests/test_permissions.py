"""The permission matrix: every route declares what it needs, and refuses every role without it;
device routes refuse every person, and person routes refuse every device."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from openbwv.config import Settings
from openbwv.domains import installed_domains, routes_of
from openbwv.policy import (
    ROLE_PERMISSIONS,
    DeviceScope,
    Permission,
    RequireDeviceScope,
    RequirePermission,
    RequirePermissionUnlessPublic,
    Role,
    public,
)
from tests.builders import device_headers_for, headers_for

CSRF = "matrix-csrf-token"


def _all_routes() -> list[APIRoute]:
    """Every route of every installed domain: what the app serves besides health and metrics."""
    return [route for route in routes_of(installed_domains()) if isinstance(route, APIRoute)]


def _walk(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _walk(dependency)


def declared_scope(route: APIRoute) -> DeviceScope | None:
    """The device scope a device route requires; None for every other route."""
    scopes = [c.scope for c in _walk(route.dependant) if isinstance(c, RequireDeviceScope)]
    return scopes[0] if scopes else None


def declared_permission(route: APIRoute) -> Permission | None:
    """The permission a route requires; None when it declares itself public or is a device route."""
    calls = list(_walk(route.dependant))
    required = [c.permission for c in calls if isinstance(c, RequirePermission)]
    if required:
        return required[0]
    if public in calls or declared_scope(route) is not None:
        return None
    raise AssertionError(f"{route.path} declares neither a permission, a device scope nor Public")


def public_setting(route: APIRoute) -> str | None:
    """The setting that opens a route to anonymous callers, if it has one."""
    calls = list(_walk(route.dependant))
    settings = [c.setting for c in calls if isinstance(c, RequirePermissionUnlessPublic)]
    return settings[0] if settings else None


def _request(client: TestClient, route: APIRoute, headers: dict[str, str]) -> int:
    method = sorted(route.methods or ())[0]
    path = re.sub(r"\{[^}]+\}", "x", route.path)
    client.cookies.set("openbwv_csrf", CSRF)
    data = {"csrf_token": CSRF} if method != "GET" else None
    if not route.path.startswith("/api/"):
        headers = {**headers, "Accept": "text/html"}
    # Only the status is judged, so the answer is not read: an event stream would run for minutes.
    with client.stream(method, path, headers=headers, data=data, follow_redirects=False) as response:
        return response.status_code


def _served(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes an app serves, looking inside the routers it includes by reference."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _served(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _key(route: APIRoute) -> tuple[str, frozenset[str], object]:
    return route.path, frozenset(route.methods or ()), route.endpoint


def test_the_matrix_covers_every_route_the_app_serves(client: TestClient) -> None:
    """The app serves the domains' declared routes and, besides them, only its own operations routes."""
    served = {_key(route): route.path for route in _served(client.app.routes)}  # type: ignore[attr-defined]
    declared = {_key(route) for route in _all_routes()}
    assert declared <= served.keys()
    assert {path for key, path in served.items() if key not in declared} == {"/healthz", "/metrics"}


def test_every_route_declares_a_permission_a_device_scope_or_public() -> None:
    routes = _all_routes()
    assert len(routes) > 10
    public_paths = {r.path for r in routes if declared_permission(r) is None and declared_scope(r) is None}
    # Signing in: a person's password, or an Axis system's serial and device credential (Swift auth);
    # the tus endpoint's OPTIONS: clients ask it what the server speaks before they sign anything; and
    # MediaMTX's authentication hook, which carries the publisher's or reader's credential in its body.
    assert public_paths == {
        "/api/v1/auth/token",
        "/login",
        "/api/axis/auth/v1.0",
        "/api/v1/uploads",
        "/api/v1/live/media-server/auth",
    }
    assert all(declared_permission(r) is None for r in routes if declared_scope(r) is not None)


def test_device_routes_are_declared() -> None:
    assert {(r.path, *sorted(r.methods or ())): declared_scope(r) for r in DEVICE_ROUTES} == {
        ("/api/v1/device/telemetry", "POST"): DeviceScope.TELEMETRY,
        ("/api/v1/live/telemetry", "POST"): DeviceScope.TELEMETRY,
        ("/api/v1/live/streams/{serial}/ingest", "POST"): DeviceScope.LIVE_INGEST,
        ("/api/v1/uploads", "POST"): DeviceScope.UPLOAD,
        ("/api/v1/uploads/{upload_id}", "HEAD"): DeviceScope.UPLOAD,
        ("/api/v1/uploads/{upload_id}", "PATCH"): DeviceScope.UPLOAD,
        ("/api/v1/uploads/{upload_id}", "DELETE"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}", "GET"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}", "HEAD"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}", "GET"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}", "HEAD"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}", "POST"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}", "PUT"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}/{name:path}", "GET"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}/{name:path}", "HEAD"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}/{name:path}", "POST"): DeviceScope.UPLOAD,
        ("/api/axis/v1/{account}/{container}/{name:path}", "PUT"): DeviceScope.UPLOAD,
    }


def test_only_the_audit_log_contract_can_be_opened_to_anonymous_callers() -> None:
    opened = {r.path: public_setting(r) for r in _all_routes() if public_setting(r)}
    assert opened == {
        "/api/v1/audit/checkpoint": "audit_public_checkpoints",
        "/api/v1/audit/proof/inclusion": "audit_public_checkpoints",
        "/api/v1/audit/proof/consistency": "audit_public_checkpoints",
        "/api/v1/audit/entries": "audit_public_entries",
    }


PROTECTED = [r for r in _all_routes() if declared_permission(r) is not None]


@pytest.mark.parametrize(
    "route", PROTECTED, ids=[f"{sorted(r.methods or ())[0]} {r.path}" for r in PROTECTED]
)
def test_route_refuses_anonymous_and_every_role_without_its_permission(
    route: APIRoute, client: TestClient, factory: sessionmaker[Session], settings: Settings
) -> None:
    """Routes the force has opened to the public (by default, the audit log's checkpoints and
    proofs) let everyone through instead."""
    permission = declared_permission(route)
    setting = public_setting(route)
    opened = setting is not None and getattr(settings, setting)
    anonymous = _request(client, route, {})
    if opened:
        assert anonymous not in (401, 403)
    else:
        assert anonymous == (401 if route.path.startswith("/api/") else 303)
    for role in Role:
        status = _request(client, route, headers_for(factory, role))
        if opened or permission in ROLE_PERMISSIONS[role]:
            assert status not in (401, 403), f"{role} should pass {route.path}"
        else:
            assert status == 403, f"{role} should be refused {route.path}, got {status}"


DEVICE_ROUTES = [r for r in _all_routes() if declared_scope(r) is not None]


@pytest.mark.parametrize(
    "route", DEVICE_ROUTES, ids=[f"{sorted(r.methods or ())[0]} {r.path}" for r in DEVICE_ROUTES]
)
def test_device_route_refuses_anonymous_every_role_and_a_device_without_its_scope(
    route: APIRoute, client: TestClient, factory: sessionmaker[Session]
) -> None:
    scope = declared_scope(route)
    assert scope is not None
    assert _request(client, route, {}) == 401
    for role in Role:
        status = _request(client, route, headers_for(factory, role))
        assert status == 403, f"{role} should be refused {route.path}, got {status}"
    without = device_headers_for(factory, scopes=frozenset(DeviceScope) - {scope})
    assert _request(client, route, without) == 403
    assert _request(client, route, device_headers_for(factory, scopes=frozenset({scope}))) not in (401, 403)


@pytest.mark.parametrize(
    "route", PROTECTED, ids=[f"{sorted(r.methods or ())[0]} {r.path}" for r in PROTECTED]
)
def test_person_route_refuses_a_device_with_every_scope(
    route: APIRoute, client: TestClient, factory: sessionmaker[Session], settings: Settings
) -> None:
    """A device holds no role, so it gets no further on a person route than a role without the
    permission would; only a route the force has opened to everyone lets it through."""
    setting = public_setting(route)
    opened = setting is not None and getattr(settings, setting)
    status = _request(client, route, device_headers_for(factory, scopes=frozenset(DeviceScope)))
    if opened:
        assert status not in (401, 403)
    else:
        assert status == 403, f"a device should be refused {route.path}, got {status}"
