"""Rendering pages: one Jinja2 environment over the web shell's templates and each domain's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from openbwv.csrf import CSRF_FIELD, csrf_token_for, set_csrf_cookie
from openbwv.policy import Actor, Permission, can
from openbwv.web.times import DISPLAY_FORMAT, local_in_sentence, local_text, utc_iso

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_TEMPLATE_DIRS = [_PACKAGE_ROOT / "web" / "templates", *sorted(_PACKAGE_ROOT.glob("**/templates"))]


def _zone(context: Context) -> ZoneInfo:
    zone = context.get("time_zone")
    if not isinstance(zone, ZoneInfo):
        # A macro imported without context cannot see the page's zone: import it "with context".
        raise RuntimeError(f"{context.name} shows a time without the force's time zone in its context")
    return zone


@pass_context
def _local_time(context: Context, at: datetime | None, pattern: str = DISPLAY_FORMAT) -> str:
    """``{{ at|local_time }}``: a stored time in the force's zone, with the zone's abbreviation;
    ``pattern`` is strftime's (``"%Y-%m-%d %H:%M:%S"`` for seconds)."""
    return "" if at is None else local_text(at, _zone(context), pattern)


def _utc_iso(at: datetime | None) -> str:
    """``{{ at|utc_iso }}``: the machine-readable time, in UTC, for ``<time datetime=...>``."""
    return "" if at is None else utc_iso(at)


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dict.fromkeys(_TEMPLATE_DIRS)]),
        autoescape=select_autoescape(default=True),
    )
    env.filters.update(local_time=_local_time, utc_iso=_utc_iso)
    return env


templates = Jinja2Templates(env=_environment())


@dataclass(frozen=True)
class NavItem:
    """A link in the page header, shown to callers holding ``permission`` (and, where
    ``officers_only``, linked to an officer); ``order`` places it among every domain's links."""

    label: str
    href: str
    permission: Permission
    order: int
    officers_only: bool = False

    def shown_to(self, actor: Actor | None) -> bool:
        if actor is None or not can(actor, self.permission):
            return False
        return actor.officer_id is not None or not self.officers_only


def navigation_for(request: Request, actor: Actor | None) -> list[tuple[str, str]]:
    """The header links ``actor`` may follow, from the navigation the application installed as
    ``app.state.navigation`` (every domain's entries, in order)."""
    items: Sequence[NavItem] = getattr(request.app.state, "navigation", ())
    return [(item.label, item.href) for item in items if item.shown_to(actor)]


def wants_json(request: Request) -> bool:
    """API paths, and any caller that does not ask for HTML, get JSON answers and errors."""
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


UnreadNotifications = Callable[[Request, Actor | None], int | None]
"""The caller's unread notifications for the bell in the page header, or None for no bell; the
application installs it as ``app.state.unread_notifications``, since notifications draw pages too."""


def _unread_notifications(request: Request, actor: Actor | None) -> int | None:
    count: UnreadNotifications | None = getattr(request.app.state, "unread_notifications", None)
    return None if count is None else count(request, actor)


SENTENCES = ("error", "message", "notice")
"""The context's sentences, refusals among them, whose UTC times a page shows on the force's clocks."""


def render(
    request: Request, name: str, context: dict[str, Any], *, actor: Actor | None, status_code: int = 200
) -> HTMLResponse:
    """Render ``name`` with the signed-in actor, their navigation and the form token."""
    settings = request.app.state.settings
    full = {
        "actor": actor,
        "can": (lambda permission: actor is not None and can(actor, permission)),
        "Permission": Permission,
        "navigation": navigation_for(request, actor),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token_for(request),
        "force_name": settings.force_name,
        "time_zone": settings.zone,
        "time_zone_name": settings.time_zone,
        "path": request.url.path,
        "notifications_unread": _unread_notifications(request, actor),
        **context,
    }
    for key in SENTENCES:
        if isinstance(full.get(key), str):
            full[key] = local_in_sentence(full[key], settings.zone)
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
