from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from openbwv.auth.schemas import TokenOut
from openbwv.auth.service import sign_in
from openbwv.db import SessionFactory
from openbwv.errors import error_responses
from openbwv.observability import client_address
from openbwv.policy import Public

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=error_responses(400, 401, 422, 429))


@router.post("/token", response_model=TokenOut, dependencies=[Public])
def create_token(
    request: Request,
    factory: SessionFactory,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1024)],
    # The OAuth2 password flow's form; only its grant type may be named, and it is not otherwise read.
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    """Exchange a username and password for a bearer token (OAuth2 password flow)."""
    policy = request.app.state.login_policy
    token, actor = sign_in(
        factory,
        username=username,
        password=password,
        address=client_address(request),
        kind="api",
        policy=policy,
    )
    return TokenOut(
        access_token=token,
        expires_in=int(policy.token_ttl.total_seconds()),
        must_change_password=actor.must_change_password,
    )
