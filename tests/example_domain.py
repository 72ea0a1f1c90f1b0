"""A small domain declared inside the tests: one declaration gives it a page, a header link, jobs, a
misuse rule and a command, with no edit anywhere else (``tests/test_domains.py`` builds the app, the
worker's jobs and the CLI with it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import typer
from fastapi import APIRouter
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse

from openbwv.audit import Target
from openbwv.audit.misuse import Finding
from openbwv.domains import Domain
from openbwv.jobs import JobRegistry
from openbwv.policy import Actor, Permission, Require
from openbwv.web.render import NavItem

PERMISSION = Permission.AUDIT_ALERT_READ
TASK = "example.echo"
SCHEDULE = "example.tick"
RULE = "example_rule"

router = APIRouter(include_in_schema=False)


@router.get("/example", response_class=HTMLResponse)
def example_page(actor: Actor = Require(PERMISSION)) -> HTMLResponse:
    """The example domain's one page."""
    return HTMLResponse(f"<p>Example page for {actor.username}</p>")


registry = JobRegistry()


@registry.task(TASK)
def echo(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """A task that does nothing."""


@registry.schedule(SCHEDULE, "0 4 * * *")
def tick(factory: sessionmaker[Session]) -> None:
    """A schedule that does nothing."""


class EveryRun:
    """A misuse rule that finds something every time it runs, so a test can see that it ran."""

    name = RULE
    lookback = timedelta(minutes=1)

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        return [Finding(RULE, Target("example", "1"), (), "the example domain's rule ran")]


cli = typer.Typer(help="The example domain.", no_args_is_help=True)


@cli.command("hello")
def hello() -> None:
    """Greet."""
    typer.echo("Hello from the example domain.")


DOMAIN = Domain(
    name="example",
    routers=(router,),
    navigation=(NavItem("Example", "/example", PERMISSION, order=115),),
    jobs=registry,
    misuse_rules=(EveryRun(),),
    cli={"example": cli},
)
