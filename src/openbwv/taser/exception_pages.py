"""Professional standards' page of Taser exceptions: uses without footage, unreported trigger pulls
and times that disagree with the device, each explained on the page; and the numbers the Taser rules
read, changed in place."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import check_csrf
from openbwv.db import Db
from openbwv.errors import NotFound, OpenbwvError
from openbwv.inputs import RecordId
from openbwv.paging import Paging
from openbwv.policy import Actor, Permission, Require
from openbwv.taser import exceptions
from openbwv.taser.models import CODE_LENGTH, COMMENT_LENGTH, EXCEPTION_KINDS
from openbwv.taser.settings import SETTINGS, all_settings, set_setting
from openbwv.web.forms import redrawing_on_refusal, said
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "no_footage": "No footage",
    "unreported_trigger": "Trigger pull not reported",
    "time_mismatch": "Report's time disagrees with the device",
}


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    show_all: bool = False,
    limit: int = 50,
    offset: int = 0,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = exceptions.list_exceptions(
        db, kind=kind, open_only=not show_all, limit=limit, offset=offset
    )
    context = {
        "title": "Taser exceptions",
        "rows": rows,
        "total": total,
        "kind": kind,
        "kinds": EXCEPTION_KINDS,
        "kind_labels": KIND_LABELS,
        "show_all": show_all,
        "explanations": exceptions.EXPLANATIONS,
        "settings": SETTINGS.values(),
        "values": all_settings(db),
        "notice": notice,
        "error": error,
    }
    return render(request, "taser/exceptions.html", context, actor=actor, status_code=status_code)


@router.get("/taser/exceptions", response_class=HTMLResponse)
def exceptions_page(
    request: Request,
    db: Db,
    paging: Paging,
    kind: Annotated[str | None, Query(max_length=CODE_LENGTH)] = None,
    show: Annotated[str | None, Query(max_length=10)] = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
    actor: Actor = Require(Permission.TASER_EXCEPTION_READ),
) -> HTMLResponse:
    """The open exceptions (or every one), newest first, by kind; the settings beneath."""
    return _page(
        request,
        db,
        actor,
        kind=kind or None,
        show_all=show == "all",
        limit=paging.limit,
        offset=paging.offset,
        notice=notice,
    )


@router.post("/taser/exceptions/{exception_id}/explanation", dependencies=[Depends(check_csrf)])
def explain_from_form(
    request: Request,
    exception_id: RecordId,
    db: Db,
    explanation: Annotated[str, Form(max_length=CODE_LENGTH)] = "",
    text: Annotated[str, Form(max_length=COMMENT_LENGTH)] = "",
    actor: Actor = Require(Permission.TASER_EXCEPTION_EXPLAIN),
) -> Response:
    """Record why an exception happened, which closes it."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _page(request, db, actor, error=said(refusal), status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        if exceptions.explain_exception(db, actor, exception_id, explanation=explanation, text=text) is None:
            raise NotFound("exception")
    notice = f"Exception {exception_id} explained: {explanation.replace('_', ' ')}."
    return RedirectResponse(f"/taser/exceptions?notice={quote_plus(notice)}", status_code=303)


@router.post("/taser/settings/{name}", dependencies=[Depends(check_csrf)])
def set_setting_from_form(
    request: Request,
    name: Annotated[str, Path(max_length=CODE_LENGTH)],
    db: Db,
    value: Annotated[float, Form(allow_inf_nan=False)],
    actor: Actor = Require(Permission.TASER_SETTINGS_WRITE),
) -> Response:
    """Change one of the Taser rules' numbers within its bounds (audited with the old value)."""

    def redraw(refusal: OpenbwvError) -> Response:
        return _page(request, db, actor, error=said(refusal), status_code=refusal.status_code)

    with redrawing_on_refusal(db, redraw):
        set_setting(db, actor, name, value)
    known = SETTINGS[name]
    notice = f"{known.label}: now {value:g} {known.unit}."
    return RedirectResponse(f"/taser/exceptions?notice={quote_plus(notice)}", status_code=303)
