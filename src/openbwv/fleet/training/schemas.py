from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from openbwv.inputs import Input


class CourseIn(Input):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=120)
    authority: str | None = Field(default=None, max_length=20, description="bwv, taser, or none.")
    validity_months: int | None = Field(default=None, ge=1, le=120)


class CourseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    authority: str | None
    validity_months: int | None


class PassIn(Input):
    course: str = Field(min_length=1, max_length=40)
    passed_on: date
    trainer: str | None = Field(default=None, max_length=200)


class PassWarningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    message: str


class PassOut(BaseModel):
    collar_number: str
    course: str
    passed_on: date
    expires_on: date | None
    trainer: str | None
    warnings: list[PassWarningOut] = Field(
        default=[],
        description="What was true before it was recorded: the policy rules the officer out "
        "(officer_ineligible), or the same pass was already recorded (pass_already_recorded).",
    )


class CourseStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    course: str
    name: str
    authority: str | None
    passed_on: date
    expires_on: date | None
    in_date: bool
    trainer: str | None


class EligibilityIn(Input):
    free_text = frozenset({"reason"})

    authority: str = Field(default="taser", max_length=20)
    rank: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=40)
    eligible: bool
    effective_from: date
    reason: str = Field(min_length=1, max_length=1000)


class EligibilityOut(BaseModel):
    id: int
    authority: str
    rank: str | None
    unit_id: int | None
    unit: str | None = Field(description="The unit's code; none for a rule over every unit.")
    eligible: bool
    effective_from: date
    ends_on: date | None = Field(description="The first day the rule no longer applies, once withdrawn.")
    reason: str
    set_by: str
    set_at: datetime
    status: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None
    superseded_by: int | None


class WithdrawEligibilityIn(Input):
    free_text = frozenset({"reason"})

    reason: str = Field(min_length=1, max_length=1000)


class SupersedeEligibilityIn(Input):
    free_text = frozenset({"reason"})

    eligible: bool
    effective_from: date
    reason: str = Field(min_length=1, max_length=1000)


class VolunteerIn(Input):
    collar_number: str = Field(min_length=1, max_length=20)
    volunteered_on: date | None = None


class VolunteerOut(BaseModel):
    collar_number: str
    volunteered_on: date


class AuthorityLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    collar_number: str
    name: str
    unit: str
    expires_on: date
    tasers_held: list[str]


class IneligibleLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    collar_number: str
    name: str
    rank: str
    unit: str
    reason: str
    effective_from: date
    tasers_held: list[str]


class AuthorityExceptionsOut(BaseModel):
    today: date
    lapsing: list[AuthorityLineOut]
    lapsed_with_taser: list[AuthorityLineOut]
    ineligible_with_taser: list[IneligibleLineOut]
    notifications_added: int
