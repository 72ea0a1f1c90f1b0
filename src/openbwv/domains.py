"""Domain declarations: each domain describes itself once, and the app, the CLI and the worker read it.

A package ``openbwv/<name>/`` with a module ``openbwv/<name>/domain.py`` that defines
``DOMAIN = Domain(...)`` is a domain: its routers are served, its navigation entries appear in
the page header, its jobs run in every worker, its misuse rules run in the audit log's misuse
job and its CLI sub-apps join the ``openbwv`` command. :func:`installed_domains` finds the
declarations, so adding a domain edits no list anywhere else.

Declarations must not clash: two domains with one name, one CLI command name, one job name or
one navigation label are refused with :class:`DeclarationClash` when the app, worker or CLI is
built from them.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import typer
from fastapi import APIRouter
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

import openbwv
from openbwv.config import Settings
from openbwv.jobs import JobRegistry
from openbwv.observability import Metrics
from openbwv.web.render import NavItem

DECLARATION_MODULE = "domain"


class DeclarationClash(ValueError):
    """Two domain declarations claim the same name, command, job or navigation label."""


@dataclass(frozen=True)
class JobContext:
    """What a domain's job factory is built for: the worker's settings and every domain's misuse
    rules (which only the audit domain's misuse job runs)."""

    settings: Settings
    misuse_rules: tuple[object, ...] = ()


JobFactory = Callable[[JobContext], JobRegistry]


@dataclass(frozen=True)
class ServiceContext:
    """What a domain's background service runs with inside the app: its settings, sessions and
    metrics registry, and the app's state, where a service leaves what the domain's routes read
    (the live map's positions)."""

    settings: Settings
    session_factory: sessionmaker[Session]
    metrics: Metrics
    app_state: Any = None


BackgroundService = Callable[[ServiceContext], AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class Domain:
    """One domain's description of itself.

    - ``routers``: JSON and page routers, included in this order.
    - ``navigation``: header links, each with the permission that shows it; ``NavItem.order``
      places them among every domain's links.
    - ``jobs``: a registry of tasks, schedules and start-up sweeps, or a factory that builds one
      for a :class:`JobContext` (for jobs that need the settings or other domains' misuse rules).
    - ``misuse_rules``: rules over the audit event stream (``openbwv.audit.misuse.Rule``), carried
      to the audit domain's misuse job; the platform does not look inside them.
    - ``cli``: Typer sub-apps by command name (``openbwv <name> ...``).
    - ``topics``: the message topics the domain publishes or consumes (MQTT topic filters such as
      ``"devices/+/telemetry"``).
    - ``background``: services that run beside the app while it serves (a message broker's
      consumer), each an async context manager entered at start-up and left at shut-down; one
      that has nothing to do for the settings simply yields.
    """

    name: str
    routers: tuple[APIRouter, ...] = ()
    navigation: tuple[NavItem, ...] = ()
    jobs: JobRegistry | JobFactory | None = None
    misuse_rules: tuple[object, ...] = ()
    cli: Mapping[str, typer.Typer] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    background: tuple[BackgroundService, ...] = ()

    def job_registry(self, context: JobContext) -> JobRegistry:
        """This domain's jobs, built for ``context`` where the declaration is a factory."""
        if self.jobs is None:
            return JobRegistry()
        if isinstance(self.jobs, JobRegistry):
            return self.jobs
        return self.jobs(context)


def discover(package: ModuleType) -> tuple[Domain, ...]:
    """The ``DOMAIN`` of every sub-package of ``package`` with a declaration module, by package name."""
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if not info.ispkg:
            continue
        subpackage = f"{package.__name__}.{info.name}"
        if importlib.util.find_spec(f"{subpackage}.{DECLARATION_MODULE}") is None:
            continue
        declaration = importlib.import_module(f"{subpackage}.{DECLARATION_MODULE}")
        domain = getattr(declaration, "DOMAIN", None)
        if not isinstance(domain, Domain):
            raise TypeError(f"{declaration.__name__} must define DOMAIN = Domain(...)")
        found.append(domain)
    return checked(found)


@cache
def installed_domains() -> tuple[Domain, ...]:
    """Every domain of openbwv, found by its declaration module, in a stable order.

    Importing the declarations imports each domain's routers and so registers its tables.
    """
    return discover(openbwv)


def checked(domains: Iterable[Domain]) -> tuple[Domain, ...]:
    """``domains`` as a tuple, refusing two with one name."""
    result = tuple(domains)
    _refuse_twice("domain", [(domain.name, domain.name) for domain in result])
    return result


def routes_of(domains: Sequence[Domain]) -> list[BaseRoute]:
    """Every route of ``domains``, in the order they are served."""
    return [route for domain in domains for router in domain.routers for route in router.routes]


def navigation_of(domains: Sequence[Domain]) -> tuple[NavItem, ...]:
    """Every domain's header links, in their declared order."""
    items = [(item, domain.name) for domain in domains for item in domain.navigation]
    _refuse_twice("navigation label", [(item.label, owner) for item, owner in items])
    return tuple(sorted((item for item, _ in items), key=lambda item: item.order))


def cli_of(domains: Sequence[Domain], *, reserved: Iterable[str] = ()) -> dict[str, typer.Typer]:
    """Every domain's CLI sub-apps by command name; ``reserved`` names the commands already taken."""
    claims = [(name, "openbwv") for name in reserved]
    claims += [(name, domain.name) for domain in domains for name in domain.cli]
    _refuse_twice("command", claims)
    return {name: sub_app for domain in domains for name, sub_app in domain.cli.items()}


def merged_jobs(settings: Settings, domains: Sequence[Domain]) -> JobRegistry:
    """Every domain's tasks, schedules and start-up sweeps: what a worker runs."""
    context = JobContext(settings, misuse_rules=tuple(r for d in domains for r in d.misuse_rules))
    registries = [(domain.name, domain.job_registry(context)) for domain in domains]
    _refuse_twice("task", [(name, owner) for owner, registry in registries for name in registry.tasks])
    _refuse_twice(
        "schedule", [(name, owner) for owner, registry in registries for name in registry.schedules]
    )
    merged = JobRegistry()
    for _, registry in registries:
        merged.include(registry)
    return merged


def _refuse_twice(kind: str, claims: Iterable[tuple[str, str]]) -> None:
    """Refuse a name claimed twice, saying by whom: ``claims`` pairs each name with its claimant."""
    owners: dict[str, str] = {}
    for name, owner in claims:
        if name in owners:
            by = f"twice by {owner}" if owners[name] == owner else f"by both {owners[name]} and {owner}"
            raise DeclarationClash(f"{kind} {name!r} is declared {by}")
        owners[name] = owner
