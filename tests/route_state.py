"""Each route's request handling analysed once per test run, not once per test's app.

FastAPI analyses a route's endpoint (its parameters, dependencies, body and response models) for
every app that includes the route, lazily, on the first request that walks past it. A test builds a
fresh app over its own database, so each test paid that analysis again: about half a second for the
first request of every test, most of the suite's time. The analysis depends only on the route, the
path and the options it is included with, never on the app, so one analysis serves every app; the
app's own part (the dependency overrides it consults, the handler wrapped around the analysis) is
still built for each app.

This reaches into a private FastAPI function. Where a FastAPI release no longer has it (or calls it
differently), ``install`` leaves FastAPI alone and the suite runs as before, only slower.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Any

import fastapi.routing
from fastapi import params

_PER_APP = ("dependency_overrides_provider",)
_EXPECTED = ("route", "path", "endpoint", "dependencies", "dependency_overrides_provider")


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for an option's value: equal options give equal stand-ins."""
    if isinstance(value, params.Depends):
        return ("depends", value.dependency, value.use_cache, getattr(value, "scope", None))
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), _frozen(v)) for k, v in value.items()), key=lambda kv: kv[0]))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def install() -> bool:
    """Memoise FastAPI's per-inclusion route analysis for this process; False where this FastAPI
    has no such function to memoise."""
    original: Callable[..., None] | None = getattr(fastapi.routing, "_populate_api_route_state", None)
    context_type = getattr(fastapi.routing, "_EffectiveRouteContext", None)
    if original is None or context_type is None:
        return False
    if not set(_EXPECTED) <= set(inspect.signature(original).parameters):
        return False
    analysed: dict[Hashable, dict[str, Any]] = {}

    def populate_once(route: Any, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        # Endpoints made inside a function (one per app) and routes of the app itself are analysed
        # as FastAPI does: caching them would only keep old apps alive.
        if not isinstance(route, context_type) or "<locals>" in getattr(endpoint, "__qualname__", "<locals>"):
            original(route, path, endpoint, **options)
            return
        key = (
            endpoint,
            path,
            tuple(sorted((name, _frozen(value)) for name, value in options.items() if name not in _PER_APP)),
        )
        state = analysed.get(key)
        if state is None:
            original(route, path, endpoint, **options)
            analysed[key] = {
                name: value
                for name, value in vars(route).items()
                if name not in (*_PER_APP, "original_route", "app")
            }
            return
        vars(route).update(state)
        for name in _PER_APP:
            setattr(route, name, options.get(name))

    fastapi.routing._populate_api_route_state = populate_once
    return True
