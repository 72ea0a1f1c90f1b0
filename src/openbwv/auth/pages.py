from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.auth.service import change_password, end_session, sign_in
from openbwv.csrf import SESSION_COOKIE, check_csrf
from openbwv.db import Db, SessionFactory
from openbwv.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from openbwv.observability import client_address
from openbwv.policy import Actor, Permission, Public, Require
from openbwv.web.forms import said
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only follow a local path after sign-in, never another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse, dependencies=[Public])
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "auth/login.html", {"title": "Sign in", "next": next, "username": ""}, actor=None)


@router.post("/login", dependencies=[Public, Depends(check_csrf)])
def login(
    request: Request,
    factory: SessionFactory,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Sign in and start a web session."""
    settings = request.app.state.settings
    policy = request.app.state.login_policy
    try:
        token, _ = sign_in(
            factory,
            username=username,
            password=password,
            address=client_address(request),
            kind="session",
            policy=policy,
        )
    except (Unauthenticated, TooManyRequests) as refusal:
        context = {"title": "Sign in", "next": next, "username": username, "error": refusal.message}
        page = render(request, "auth/login.html", context, actor=None, status_code=refusal.status_code)
        if isinstance(refusal, TooManyRequests):
            page.headers["Retry-After"] = str(refusal.retry_after)
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(policy.token_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(
    request: Request, db: Db, actor: Actor = Require(Permission.SELF_READ, before_password_change=True)
) -> Response:
    """End the web session."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        end_session(db, actor, raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _password_form(
    request: Request, actor: Actor, *, error: str | None = None, done: bool = False, status_code: int = 200
) -> HTMLResponse:
    context = {"title": "Change your password", "error": error, "done": done}
    return render(request, "auth/password.html", context, actor=actor, status_code=status_code)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(
    request: Request,
    done: bool = False,
    actor: Actor = Require(Permission.SELF_PASSWORD_WRITE, before_password_change=True),
) -> HTMLResponse:
    """The form to change one's own password; a temporary one must be changed here first."""
    return _password_form(request, actor, done=done)


@router.post("/account/password", dependencies=[Depends(check_csrf)])
def change_password_from_form(
    request: Request,
    factory: SessionFactory,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
    repeat_password: Annotated[str, Form(max_length=1024)],
    actor: Actor = Require(Permission.SELF_PASSWORD_WRITE, before_password_change=True),
) -> Response:
    """Change one's own password."""
    if new_password != repeat_password:
        return _password_form(
            request, actor, error="The two new passwords differ; type the same one twice.", status_code=422
        )
    try:
        change_password(
            factory,
            actor,
            current_password=current_password,
            new_password=new_password,
            address=client_address(request),
            policy=request.app.state.login_policy,
        )
    except (Conflict, InvalidInput, NotFound, TooManyRequests) as refusal:
        page = _password_form(request, actor, error=said(refusal), status_code=refusal.status_code)
        if isinstance(refusal, TooManyRequests):
            page.headers["Retry-After"] = str(refusal.retry_after)
        return page
    return RedirectResponse("/account/password?done=true", status_code=303)
