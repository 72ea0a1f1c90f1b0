"""What an input may hold: integers the databases can store, and text without control characters.

SQLite stores integers in 64 bits and PostgreSQL's ``integer`` in 32; PostgreSQL text cannot hold
NUL. Routes and schemas take their integers through the types here, every request body derives from
``Input``, and the app runs ``refuse_control_characters_in_request`` before every route, so hostile
input is refused with 422 where it arrives instead of failing in a query with 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from annotated_types import Ge, Le
from fastapi import Request, WebSocketException
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute
from starlette.requests import HTTPConnection

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

RecordId = Annotated[int, Ge(1), Le(MAX_INT32)]
"""The id of a row keyed by an ``Integer`` column (PostgreSQL ``integer``)."""
BigRecordId = Annotated[int, Ge(1), Le(MAX_INT64)]
"""The id of a row keyed by a ``BigInteger`` column (audit events)."""
Count = Annotated[int, Ge(0), Le(MAX_INT64)]
"""A count or position the databases hold in 64 bits: an offset, a leaf index, a tree size."""

_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "must not contain control characters such as NUL"
FREE_TEXT_CONTROL_MESSAGE = "must not contain control characters other than tabs and line breaks"


def control_character_problem(value: str, *, free_text: bool = False) -> str | None:
    """Why ``value`` is refused, or None. Free text may hold tabs and line breaks; nothing else may."""
    if free_text:
        return FREE_TEXT_CONTROL_MESSAGE if _CONTROL_BUT_LAYOUT.search(value) else None
    return CONTROL_MESSAGE if _CONTROL.search(value) else None


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


class Input(BaseModel):
    """The base of every request body: no string in it, in lists too, holds a control character;
    the fields named in ``free_text`` (notes, reasons) may hold tabs and line breaks."""

    free_text: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _refuse_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        free_text = info.field_name in cls.free_text
        for text in _strings(value):
            problem = control_character_problem(text, free_text=free_text)
            if problem:
                raise PydanticCustomError("control_character", problem)
        return value


def _takes_a_form(request: Request) -> bool:
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and isinstance(getattr(route.body_field, "field_info", None), Form)


async def refuse_control_characters_in_request(request: HTTPConnection) -> None:
    """Refuse a path, query string or form field holding a control character, before any route runs
    (a WebSocket is closed with 1008 and the same sentence).

    Only a route that declares form fields has its form read here (FastAPI has parsed it already);
    any other body is left to the route, so that uploads still stream.
    """
    fields: list[tuple[str, str, object]] = [
        *(("path", name, value) for name, value in request.path_params.items()),
        *(("query", name, value) for name, value in request.query_params.multi_items()),
    ]
    if isinstance(request, Request) and _takes_a_form(request):
        form = await request.form()
        fields += [("body", name, value) for name, value in form.multi_items()]
    errors = [
        {"loc": (where, name), "msg": CONTROL_MESSAGE, "type": "control_character"}
        for where, name, value in fields
        if (isinstance(value, str) and control_character_problem(value)) or control_character_problem(name)
    ]
    if errors and request.scope["type"] == "websocket":
        raise WebSocketException(code=1008, reason=CONTROL_MESSAGE)
    if errors:
        raise RequestValidationError(errors)


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The length of a ``String(n)`` column, so that inputs are bounded by what the database holds."""
    kind = column.property.columns[0].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} is not a String column with a length")
    return kind.length
