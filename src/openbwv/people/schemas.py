from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from openbwv.inputs import Input
from openbwv.policy import Role


def _distinct(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


Roles = Annotated[
    list[str],
    Field(min_length=1, max_length=len(Role), description="Role names; each counts once."),
    AfterValidator(_distinct),
]


class UnitIn(Input):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="other", min_length=1, max_length=40)
    station: str | None = Field(default=None, max_length=120)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    station: str | None


class RankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    seniority: int
    is_warranted: bool


class OfficerIn(Input):
    collar_number: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")
    name: str = Field(min_length=1, max_length=200)
    rank: str = Field(min_length=1, max_length=40, description="Rank code, e.g. constable.")
    unit: str = Field(min_length=1, max_length=40, description="Unit code.")


class OfficerOut(BaseModel):
    collar_number: str
    name: str
    rank: str
    rank_name: str
    unit: str
    unit_name: str
    is_active: bool
    left_on: date | None


class LeaverIn(Input):
    left_on: date


class UserCreateIn(Input):
    username: str = Field(min_length=2, max_length=150)
    password: str = Field(min_length=8, max_length=1024)
    roles: Roles
    display_name: str | None = Field(default=None, max_length=200)
    collar_number: str | None = Field(default=None, max_length=20, description="Link to an officer.")
    organisation: str | None = Field(default=None, max_length=200, description="For external users.")


class RolesIn(Input):
    roles: Roles


class TemporaryPasswordIn(Input):
    password: str = Field(
        min_length=8, max_length=1024, description="A temporary password the user must change at sign-in."
    )


class PasswordChangeIn(Input):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    collar_number: str | None
    organisation: str | None
    is_active: bool
    must_change_password: bool


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    officer: OfficerOut | None
    must_change_password: bool = Field(
        description="Signed in with a temporary password: change it (POST /api/v1/me/password) first."
    )
