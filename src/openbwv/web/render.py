"""Rendering pages: one Jinja2 environment over the web shell's templates and each domain's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from openbwv.csrf import CSRF_FIELD, csrf_token_for, set_csrf_cookie
from openbwv.policy import Actor, Permission, can

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_TEMPLATE_DIRS = [_PACKAGE_ROOT / "web" / "templates", *sorted(_PACKAGE_ROOT.glob("**/templates"))]

templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dict.fromkeys(_TEMPLATE_DIRS)]),
        autoescape=select_autoescape(default=True),
    )
)


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission
    officers_only: bool = False

    def shown_to(self, actor: Actor | None) -> bool:
        if actor is None or not can(actor, self.permission):
            return False
        return actor.officer_id is not None or not self.officers_only


NAVIGATION: list[NavItem] = [
    NavItem("Home", "/", Permission.SELF_READ),
    NavItem("Officers", "/officers", Permission.PEOPLE_OFFICER_READ),
    NavItem("Users", "/users", Permission.USERS_ACCOUNT_READ),
    NavItem("My kit", "/kit", Permission.SELF_READ, officers_only=True),
    NavItem("Fleet", "/fleet/devices", Permission.FLEET_DEVICE_READ),
    NavItem("Issue and return", "/fleet/counter", Permission.FLEET_ISSUE_WRITE),
    NavItem("Roll-out", "/fleet/rollout", Permission.FLEET_DEVICE_READ),
    NavItem("Taser authority", "/training/expiry", Permission.TRAINING_RECORD_READ),
    NavItem("Training", "/training", Permission.TRAINING_RECORD_READ),
    NavItem("Audit", "/audit", Permission.AUDIT_EVENT_READ),
    NavItem("Alerts", "/audit/alerts", Permission.AUDIT_ALERT_READ),
    NavItem("My access", "/access/grants", Permission.ACCESS_GRANT_REQUEST),
]


def wants_json(request: Request) -> bool:
    """API paths, and any caller that does not ask for HTML, get JSON answers and errors."""
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


UnreadNotifications = Callable[[Request, Actor | None], int | None]
"""The caller's unread notifications for the bell in the page header, or None for no bell; the
application installs it as ``app.state.unread_notifications``, since notifications draw pages too."""


def _unread_notifications(request: Request, actor: Actor | None) -> int | None:
    count: UnreadNotifications | None = getattr(request.app.state, "unread_notifications", None)
    return None if count is None else count(request, actor)


def render(
    request: Request, name: str, context: dict[str, Any], *, actor: Actor | None, status_code: int = 200
) -> HTMLResponse:
    """Render ``name`` with the signed-in actor, their navigation and the form token."""
    settings = request.app.state.settings
    full = {
        "actor": actor,
        "can": (lambda permission: actor is not None and can(actor, permission)),
        "Permission": Permission,
        "navigation": [(item.label, item.href) for item in NAVIGATION if item.shown_to(actor)],
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token_for(request),
        "force_name": settings.force_name,
        "path": request.url.path,
        "notifications_unread": _unread_notifications(request, actor),
        **context,
    }
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    set_csrf_cookie(request, response, secure=settings.cookie_secure)
    return response


def query_builder(request: Request) -> Any:
    """A template helper that rebuilds the current query string with another ``offset``."""

    def query_for(offset: int) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "offset" and v}
        params["offset"] = str(offset)
        return urlencode(params)

    return query_for
