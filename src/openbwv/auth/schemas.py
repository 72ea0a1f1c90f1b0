from __future__ import annotations

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    must_change_password: bool = Field(
        default=False,
        description="Signed in with a temporary password: until it is changed (POST /api/v1/me/password) "
        "every other route answers 403 password_change_required.",
    )
