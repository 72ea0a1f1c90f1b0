"""What every request passes before any route reads its body: who is calling, and how much it sends.

FastAPI reads a route's form or JSON body before it runs the route's dependencies, ``Require``
among them, so without this an anonymous caller could make the server buffer a large upload only
to be told to sign in. Here a request to a route that needs a permission or a device scope is
turned away unless it carries credentials (a bearer token, the session cookie, or the header a device
route names), before a byte of its body is read;
whether they are valid is still for ``Require`` to say. A body larger than
``OPENBWV_MAX_BODY_MIB`` is refused with 413, by its declared length or as it streams in, except on
a route that declares ``CapsItsOwnBody`` (a tus upload) and refuses an oversized body itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbwv.csrf import SESSION_COOKIE, signed_in_by_bearer
from openbwv.policy import RequireDeviceScope, RequirePermission, RequirePermissionUnlessPublic
from openbwv.web.render import wants_json
from openbwv.web.streams import caps_its_own_body

Requirement = RequirePermission | RequireDeviceScope


def _requirement(route: APIRoute, settings: object) -> Requirement | None:
    """The device scope or permission ``route`` declares, unless the force has opened it to everyone."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        call = dependency.call
        if isinstance(call, RequirePermissionUnlessPublic) and getattr(settings, call.setting):
            return None
        if isinstance(call, RequirePermission | RequireDeviceScope):
            return call
        pending.extend(dependency.dependencies)
    return None


def _carries_credentials(request: Request, requirement: Requirement) -> bool:
    """Whether ``request`` carries something that may sign its caller in for ``requirement``."""
    if signed_in_by_bearer(request) or request.cookies.get(SESSION_COOKIE):
        return True
    header = requirement.credential_header if isinstance(requirement, RequireDeviceScope) else None
    return header is not None and bool(request.headers.get(header, "").strip())


def _caps_its_own_body(route: APIRoute) -> bool:
    """Whether ``route`` declares that it streams its body under a limit of its own."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is caps_its_own_body:
            return True
        pending.extend(dependency.dependencies)
    return False


class RequestGuard:
    """Refuse an anonymous call to a protected route unread, and cap every request body.

    ``routes`` are the domains' routes, each declaring a permission or ``Public``.
    """

    def __init__(self, app: ASGIApp, routes: Iterable[object]) -> None:
        self.app = app
        self.routes = [route for route in routes if isinstance(route, APIRoute)]
        self._protected: dict[int, Requirement | None] = {}
        self._own_limit = {id(route) for route in self.routes if _caps_its_own_body(route)}

    def _requirement_of(self, scope: Scope) -> Requirement | None:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route  # as routing would, so a refusal is counted under its route
                if id(route) not in self._protected:
                    self._protected[id(route)] = _requirement(route, scope["app"].state.settings)
                return self._protected[id(route)]
        return None

    def _caps_its_own_body(self, scope: Scope) -> bool:
        route = scope.get("route")
        return route is not None and id(route) in self._own_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        requirement = self._requirement_of(scope)
        if requirement is not None and not _carries_credentials(request, requirement):
            await _sign_in_first(request)(scope, receive, send)
            return
        if self._caps_its_own_body(scope):
            await self.app(scope, receive, send)
            return
        limit = scope["app"].state.settings.max_body_mib * 1024 * 1024
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, _too_large_message(limit))
            return message

        await self.app(scope, receive_within_limit, send)


def _sign_in_first(request: Request) -> Response:
    """The answer an anonymous caller of a protected route gets anyway, from ``Require``."""
    if wants_json(request):
        return JSONResponse(
            {"detail": "Sign in to continue."}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _too_large_message(limit: int) -> str:
    return f"The request body is larger than {limit // (1024 * 1024)} MiB."


def _too_large(limit: int) -> Response:
    return JSONResponse({"detail": _too_large_message(limit)}, status_code=413)
