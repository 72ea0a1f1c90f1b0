"""Forms that refuse and redraw: a refused write is rolled back, then its form is drawn again with the
reason and the values the user entered.

A page wraps its service call in ``redrawing_on_refusal``. When the service refuses (``Conflict``,
``InvalidInput``, ``NotFound``), the request session is rolled back first, so that nothing the
refused write flushed can be committed and the redraw's queries run on a usable session (on
PostgreSQL a failed statement aborts the transaction), and then ``RedrawForm`` carries the redrawn
page out of the route. The app answers with that page, and the request session, seeing an exception,
rolls back instead of committing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from starlette.responses import Response

from openbwv.errors import Conflict, InvalidInput, NotFound, OpenbwvError

REFUSALS = (Conflict, InvalidInput, NotFound)


def said(refusal: OpenbwvError) -> str:
    """A refusal as a sentence for a page, which shows it beside the field at fault: without the
    field's internal name that the API's message starts with."""
    if isinstance(refusal, InvalidInput):
        reason = refusal.reason.strip()
        return reason[:1].upper() + reason[1:] + ("" if reason.endswith((".", "?", "!")) else ".")
    return refusal.message


class RedrawForm(Exception):
    """The redrawn form of a refused write; the app answers with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__("form redrawn after a refusal")
        self.response = response


@contextmanager
def redrawing_on_refusal(
    db: Session,
    redraw: Callable[[OpenbwvError], Response],
    *,
    also: tuple[type[OpenbwvError], ...] = (),
) -> Iterator[None]:
    """Run the block's write; if the service refuses it, roll the session back and answer with
    ``redraw(refusal)``: the form with the refusal's message and the values entered. ``also`` adds
    refusals the form redraws on besides ``REFUSALS`` (a reason the force forbids: ``Forbidden``)."""
    refusals: tuple[type[OpenbwvError], ...] = (*REFUSALS, *also)
    try:
        yield
    except refusals as refusal:
        db.rollback()
        raise RedrawForm(redraw(refusal)) from refusal
