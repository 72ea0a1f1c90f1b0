from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from openbwv.auth.deps import Public
from openbwv.auth.schemas import TokenOut
from openbwv.auth.service import sign_in
from openbwv.db import SessionFactory
from openbwv.observability import client_address

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, dependencies=[Public])
def create_token(
    request: Request,
    factory: SessionFactory,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """Exchange a username and password for a bearer token (OAuth2 password flow)."""
    policy = request.app.state.login_policy
    token, _ = sign_in(
        factory,
        username=form.username,
        password=form.password,
        address=client_address(request),
        kind="api",
        policy=policy,
    )
    return TokenOut(access_token=token, expires_in=int(policy.token_ttl.total_seconds()))
