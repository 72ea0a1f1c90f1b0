"""CSRF protection for forms: a random token in a cookie, echoed in each form (double submit).

The session cookie is SameSite=Lax as well; the token stops a cross-site form post that a lax
cookie would still let through on top-level navigation.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from openbwv.errors import Forbidden

CSRF_COOKIE = "openbwv_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token_for(request: Request) -> str:
    """The token for this browser, made once and kept in ``request.state`` until the response sets it."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    token: str | None = getattr(request.state, "new_csrf_token", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form post whose token does not match the browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        raise Forbidden(
            "This form has expired or did not come from this site; reload the page and try again."
        )
