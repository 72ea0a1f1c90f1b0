"""CSRF protection for forms, and for the JSON API when the session cookie is what signs it in.

The token is an HMAC keyed by ``OPENBWV_SECRET_KEY`` over the SHA-256 of the session token: it
belongs to one session and cannot be made without the key. Before sign-in (the sign-in form) it is
bound the same way to a random pre-session cookie. Forms send it as the ``csrf_token`` field, API
calls as the ``X-CSRF-Token`` header. A request signed in with ``Authorization: Bearer`` needs
none: a browser never adds that header to a request another site makes it send.

The session cookie is SameSite=Lax as well; the token stops a cross-site form post that a lax
cookie would still let through on top-level navigation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from openbwv.errors import Forbidden

SESSION_COOKIE = "openbwv_session"
CSRF_COOKIE = "openbwv_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bound_token(request: Request, purpose: str, value: str) -> str:
    key: str = request.app.state.settings.resolved_secret_key
    message = f"{purpose}:{hashlib.sha256(value.encode()).hexdigest()}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _expected_token(request: Request) -> str | None:
    """The token this request's cookies call for, or None when it carries neither cookie."""
    if session := request.cookies.get(SESSION_COOKIE):
        return _bound_token(request, "session", session)
    if pre_session := request.cookies.get(CSRF_COOKIE):
        return _bound_token(request, "pre-session", pre_session)
    return None


def signed_in_by_bearer(request: Request) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())


def csrf_token_for(request: Request) -> str:
    """The token to put in this page's forms; a browser without a session gets a pre-session cookie,
    made once and kept in ``request.state`` until the response sets it."""
    expected = _expected_token(request)
    if expected is not None:
        return expected
    pre_session: str | None = getattr(request.state, "new_csrf_token", None)
    if pre_session is None:
        pre_session = secrets.token_urlsafe(32)
        request.state.new_csrf_token = pre_session
    return _bound_token(request, "pre-session", pre_session)


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)


def csrf_token_matches(request: Request, token: str) -> bool:
    """Whether ``token`` is this session's (or this browser's, before sign-in); a bearer request
    needs none."""
    if signed_in_by_bearer(request):
        return True
    expected = _expected_token(request)
    return expected is not None and hmac.compare_digest(expected, token)


def check_csrf_token(request: Request, token: str) -> None:
    """Refuse a form post whose token is not this session's: for a route that reads its own form."""
    if not csrf_token_matches(request, token):
        raise Forbidden(
            "This form has expired or did not come from this site; reload the page and try again."
        )


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form post without this session's token."""
    check_csrf_token(request, csrf_token)


def check_api_csrf(request: Request) -> None:
    """Refuse an unsafe API call signed in by the session cookie without this session's token."""
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        return
    if not csrf_token_matches(request, request.headers.get(CSRF_HEADER, "")):
        raise Forbidden(
            f"A change made with the session cookie needs the {CSRF_HEADER} header from the page; "
            "or send a bearer token."
        )
