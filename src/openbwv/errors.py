"""Errors the service layer raises; one handler turns them into ``{"detail": ...}`` answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class OpenbwvError(Exception):
    status_code = 400

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: Any = detail if detail is not None else message


class Unauthenticated(OpenbwvError):
    status_code = 401


class Forbidden(OpenbwvError):
    """Refused; ``rule`` names the rule for machines when a specific rule refused."""

    status_code = 403

    def __init__(
        self, message: str = "You do not have permission to do this.", *, rule: str | None = None
    ) -> None:
        super().__init__(message, detail={"rule": rule, "message": message} if rule else None)
        self.rule = rule


class PasswordChangeRequired(Forbidden):
    """The caller signed in with a temporary password and must change it before anything else."""

    def __init__(self) -> None:
        super().__init__(
            "Change your temporary password before doing anything else.", rule="password_change_required"
        )


class NotFound(OpenbwvError):
    status_code = 404

    def __init__(self, what: str) -> None:
        super().__init__(f"No such {what}.")


class Conflict(OpenbwvError):
    """The request clashes with what is stored; ``rule`` names the rule for machines."""

    status_code = 409

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message, detail={"rule": rule, "message": message} if rule else message)
        self.rule = rule


class TooLarge(OpenbwvError):
    """A request body over what the route accepts."""

    status_code = 413


class TooManyRequests(OpenbwvError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(OpenbwvError):
    """422 in the same shape as pydantic's field errors."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}",
            detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
        )
        self.field = field
        # The sentence without the field's name, for a page that shows it beside the field itself.
        self.reason = message


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class RefusalOut(BaseModel):
    """A refused rule: its name for machines and a sentence for people; some rules add details."""

    model_config = ConfigDict(extra="allow")

    rule: str
    message: str


class ErrorOut(BaseModel):
    detail: str | RefusalOut


class InvalidInputOut(BaseModel):
    detail: list[FieldErrorOut] | RefusalOut


_MEANINGS = {
    400: "The body cannot be parsed.",
    401: "No valid token or session.",
    403: "The caller lacks the permission.",
    404: "No such record, or one hidden from the caller.",
    409: "A rule refuses the request.",
    422: "Bad input: the fields and what is wrong with each, or the rows of a refused file.",
    413: "The request body is larger than the route accepts.",
    429: "Sign-in is locked for a while after too many failures.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for these error codes, in the shape the error handlers answer."""
    return {
        code: {"model": InvalidInputOut if code == 422 else ErrorOut, "description": _MEANINGS[code]}
        for code in codes
    }


API_ERRORS = error_responses(400, 401, 403, 404, 409, 422)
"""What any route of the JSON API may answer besides success."""


class DatabaseBusy(OpenbwvError):
    """The embedded database could not take another writer in time; the client may retry."""

    status_code = 503
    retry_after = 1
