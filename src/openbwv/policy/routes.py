"""The dependencies every route declares: who is calling, and which permission (or, for a device
route, which device scope) the route needs.

Policy sits below the packages that know callers (``auth``, which holds tokens and device
credentials) and that record refusals (``audit``), so that both can declare their own routes with
it. The application hands it those two services as :class:`CallerServices` on ``app.state.callers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request, WebSocket
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.csrf import SESSION_COOKIE, check_api_csrf
from openbwv.db import get_session_factory
from openbwv.errors import Forbidden, PasswordChangeRequired, Unauthenticated
from openbwv.policy.rules import Actor, DeviceScope, Permission, can, device_may

IdentifyCaller = Callable[[sessionmaker[Session], str], "Actor | None"]
"""The caller a bearer token, session token or device credential signs in, or None."""
RecordRefusal = Callable[[sessionmaker[Session], Actor, str, dict[str, object]], None]
"""Record in its own transaction that ``actor`` was refused a route (``METHOD /path``), and why."""


@dataclass(frozen=True)
class CallerServices:
    """What policy needs from the packages above it; the application installs it on ``app.state``."""

    identify: IdentifyCaller
    is_device_credential: Callable[[str], bool]
    record_refusal: RecordRefusal


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _services(request: Request) -> CallerServices:
    services: CallerServices = request.app.state.callers
    return services


def _signed_in(request: Request, bearer: str | None) -> Actor | None:
    """The caller of a bearer token or device credential, or of the session cookie; an unsafe API
    call signed in by the cookie must also carry the session's CSRF token."""
    services = _services(request)
    # Looked up in a short transaction of its own, closed before the route runs: the route's session
    # opens only when the route uses it, and a refusal's audit event never waits behind this lookup.
    factory = get_session_factory(request)
    if bearer:
        return services.identify(factory, bearer)
    session = request.cookies.get(SESSION_COOKIE)
    # A device signs in only with the bearer header, never as a browser session.
    if not session or services.is_device_credential(session):
        return None
    actor = services.identify(factory, session)
    if actor is not None:
        check_api_csrf(request)
    return actor


def websocket_actor(websocket: WebSocket) -> Actor | None:
    """The caller opening a WebSocket: by a bearer token in ``Authorization``, or by the session
    cookie when the page that opened it is this site's own. A browser sends the cookie with a
    WebSocket any site opens, and a WebSocket carries no CSRF header, so its ``Origin`` must be ours.
    A device never signs in by the cookie. Read in a short transaction of its own."""
    services: CallerServices = websocket.app.state.callers
    factory: sessionmaker[Session] = websocket.app.state.session_factory
    scheme, _, bearer = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer:
        return services.identify(factory, bearer.strip())
    session = websocket.cookies.get(SESSION_COOKIE)
    if not session or services.is_device_credential(session):
        return None
    origin = websocket.headers.get("origin")
    own = {f"{scheme}://{websocket.url.netloc}" for scheme in ("http", "https")}
    if origin is None or origin not in own:
        return None
    return services.identify(factory, session)


def refuse_websocket(websocket: WebSocket, actor: Actor, details: dict[str, object]) -> None:
    """Record that ``actor`` was refused a WebSocket route, as a refused request is."""
    services: CallerServices = websocket.app.state.callers
    services.record_refusal(
        websocket.app.state.session_factory, actor, f"WEBSOCKET {websocket.url.path}", details
    )


def current_actor(request: Request, bearer: str | None = Depends(_bearer)) -> Actor:
    """The signed-in caller; 401 when there is no valid token or session."""
    actor = _signed_in(request, bearer)
    if actor is None:
        raise Unauthenticated("Sign in to continue.")
    return actor


def optional_actor(request: Request, bearer: str | None = Depends(_bearer)) -> Actor | None:
    """The signed-in caller, or None for an anonymous one (or one whose token is not valid)."""
    return _signed_in(request, bearer)


def _refuse(request: Request, actor: Actor, details: dict[str, object]) -> None:
    _services(request).record_refusal(
        get_session_factory(request), actor, f"{request.method} {request.url.path}", details
    )


class RequirePermission:
    """A route's declared permission; the permission-matrix test reads ``permission`` off each route.

    A caller who must change a temporary password is refused every route not declared
    ``before_password_change`` (changing the password, signing out, who am I)."""

    def __init__(self, permission: Permission, *, before_password_change: bool = False) -> None:
        self.permission = permission
        self.before_password_change = before_password_change

    def __call__(self, request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        if actor.must_change_password and not self.before_password_change:
            raise PasswordChangeRequired()
        if not can(actor, self.permission):
            _refuse(request, actor, {"permission": str(self.permission)})
            raise Forbidden()
        return actor


class RequirePermissionUnlessPublic(RequirePermission):
    """``permission`` as usual, except that while the boolean setting ``setting`` is on, anyone may
    call the route, signed in or not: for what the force chooses to publish. The route receives the
    caller's ``Actor``, or None for an anonymous caller."""

    def __init__(self, permission: Permission, setting: str) -> None:
        if (
            Settings.model_fields.get(setting) is None
            or Settings.model_fields[setting].annotation is not bool
        ):
            raise ValueError(f"{setting} is not a boolean setting")
        super().__init__(permission)
        self.setting = setting

    # The override widens the return type to allow anonymous callers, hence the ignore.
    def __call__(  # type: ignore[override]
        self, request: Request, actor: Actor | None = Depends(optional_actor)
    ) -> Actor | None:
        if getattr(request.app.state.settings, self.setting):
            return actor
        if actor is None:
            raise Unauthenticated("Sign in to continue.")
        return super().__call__(request, actor)


class RequireDeviceScope:
    """A device route's declared scope: only a device whose credential grants it may call the route;
    a person is refused like a device on a person route (403, audited).

    ``credential_header`` names a header besides ``Authorization`` that signs the device in on a
    route that resolves its caller itself (an OpenStack Swift client's ``X-Auth-Token``): the
    request guard lets a request carrying it through, and the route judges it."""

    credential_header: str | None = None

    def __init__(self, scope: DeviceScope) -> None:
        self.scope = scope

    def __call__(self, request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        if not device_may(actor, self.scope):
            _refuse(request, actor, {"device_scope": str(self.scope)})
            raise Forbidden(
                f"Only a device whose credential grants {self.scope} may call this."
                if actor.is_device
                else "Only a device, signed in with its credential, may call this."
            )
        return actor


def Require(permission: Permission, *, before_password_change: bool = False) -> Any:  # noqa: N802
    """Declare that a route needs ``permission``; the route receives the calling ``Actor``. With
    ``before_password_change``, a caller who must change a temporary password may call it too."""
    return Depends(RequirePermission(permission, before_password_change=before_password_change))


def RequireUnlessPublic(permission: Permission, setting: str) -> Any:  # noqa: N802 - a declaration
    """Declare that a route needs ``permission`` unless the force has turned ``setting`` on."""
    return Depends(RequirePermissionUnlessPublic(permission, setting))


def RequireDevice(scope: DeviceScope) -> Any:  # noqa: N802 - reads as a declaration in signatures
    """Declare that only a device whose credential grants ``scope`` may call a route; the route
    receives the calling device's ``Actor``."""
    return Depends(RequireDeviceScope(scope))


def public() -> None:
    """Marks a route as open to anonymous callers (health, sign-in, metrics)."""


Public = Depends(public)
