"""The dependencies every route declares: who is calling, and which permission the route needs."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from openbwv import audit
from openbwv.audit import AuditAction, Target
from openbwv.auth.service import resolve_token
from openbwv.db import Db, get_session_factory
from openbwv.errors import Forbidden, Unauthenticated
from openbwv.policy import Actor, Permission, can

SESSION_COOKIE = "openbwv_session"

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def raw_credential(request: Request, bearer: str | None) -> str | None:
    """The bearer token, or for pages the session cookie."""
    return bearer or request.cookies.get(SESSION_COOKIE)


def current_actor(request: Request, db: Db, bearer: str | None = Depends(_bearer)) -> Actor:
    """The signed-in caller; 401 when there is no valid token or session."""
    raw = raw_credential(request, bearer)
    actor = resolve_token(db, raw) if raw else None
    if actor is None:
        raise Unauthenticated("Sign in to continue.")
    return actor


class RequirePermission:
    """A route's declared permission; the permission-matrix test reads ``permission`` off each route."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        if not can(actor, self.permission):
            audit.record_now(
                get_session_factory(request),
                actor=actor,
                action=AuditAction.AUTHZ_ACCESS_REFUSED,
                target=Target("route", f"{request.method} {request.url.path}"),
                details={"permission": str(self.permission)},
            )
            raise Forbidden()
        return actor


def Require(permission: Permission) -> Any:  # noqa: N802 - reads as a declaration in signatures
    """Declare that a route needs ``permission``; the route receives the calling ``Actor``."""
    return Depends(RequirePermission(permission))


def public() -> None:
    """Marks a route as open to anonymous callers (health, sign-in, metrics)."""


Public = Depends(public)
