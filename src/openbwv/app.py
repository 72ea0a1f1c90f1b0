"""The FastAPI application: JSON under /api/v1, pages, health and metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from openbwv import __version__
from openbwv.audit import record_refusal
from openbwv.auth import LoginPolicy, identify_caller, is_device_credential
from openbwv.config import Settings
from openbwv.db import SessionFactory, make_engine, make_session_factory, violated_unique
from openbwv.domains import (
    Domain,
    ServiceContext,
    checked,
    installed_domains,
    merged_jobs,
    navigation_of,
    routes_of,
)
from openbwv.errors import (
    Conflict,
    DatabaseBusy,
    Forbidden,
    OpenbwvError,
    PasswordChangeRequired,
    TooManyRequests,
    Unauthenticated,
    error_responses,
)
from openbwv.inputs import refuse_control_characters_in_request
from openbwv.jobs import JobRegistry, Worker
from openbwv.notifications.header import unread_for
from openbwv.observability import Metrics, RequestLog, may_read_metrics
from openbwv.people import colleagues
from openbwv.policy import CallerServices, Public
from openbwv.web.forms import RedrawForm
from openbwv.web.guard import RequestGuard
from openbwv.web.headers import SecurityHeaders
from openbwv.web.render import render, wants_json
from openbwv.web.vendor import mount_libraries

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def all_jobs(settings: Settings, domains: Sequence[Domain] | None = None) -> JobRegistry:
    """Every domain's tasks, schedules and start-up sweeps (default: the installed domains'): what a
    worker runs."""
    return merged_jobs(settings, installed_domains() if domains is None else domains)


def _error_page(request: Request, status_code: int, message: str) -> Response:
    headings = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 409: "Cannot do that"}
    context = {
        "title": "Error",
        "heading": headings.get(status_code, "Something went wrong"),
        "message": message,
    }
    return render(request, "error.html", context, actor=None, status_code=status_code)


def install_error_handlers(app: FastAPI) -> None:
    """Every error answers ``{"detail": ...}`` for the API and an error page for a browser."""

    @app.exception_handler(OpenbwvError)
    async def openbwv_error(request: Request, exc: OpenbwvError) -> Response:
        if wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else {}
            if isinstance(exc, TooManyRequests | DatabaseBusy):
                headers["Retry-After"] = str(exc.retry_after)
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        if isinstance(exc, Unauthenticated):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if isinstance(exc, PasswordChangeRequired):
            return RedirectResponse("/account/password", status_code=303)
        return _error_page(request, exc.status_code, exc.message)

    @app.exception_handler(RedrawForm)
    async def redraw_form(request: Request, exc: RedrawForm) -> Response:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        if wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
        return _error_page(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Services turn the "only one" rules they know into their own refusal; a unique constraint
        # that a race breaks anywhere else is still a clash with what is stored, not a server fault.
        if violated_unique(exc) is None:
            return await unexpected_error(request, exc)
        clash = Conflict(
            "This clashes with a record stored at the same moment; reload and try again.", rule="duplicate"
        )
        return await openbwv_error(request, clash)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return JSONResponse(
            {"detail": "Internal server error; the request id is in the logs."}, status_code=500
        )


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session] | None = None,
    jobs: JobRegistry | None = None,
    domains: Sequence[Domain] | None = None,
) -> FastAPI:
    """Build the app for ``settings`` from ``domains`` (default: every installed domain); tests pass
    their own session factory, jobs or domains.

    With SQLite, or when ``OPENBWV_RUN_WORKER_IN_PROCESS`` is set, the app runs the jobs itself
    while it serves.
    """
    domains = checked(installed_domains() if domains is None else domains)
    routes = routes_of(domains)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if settings.is_sqlite or settings.run_worker_in_process:
                worker = Worker(
                    settings, jobs or all_jobs(settings, domains), factory=app.state.session_factory
                )
                await worker.start()
                stack.push_async_callback(worker.stop)
            context = ServiceContext(settings, app.state.session_factory, app.state.metrics, app.state)
            for domain in domains:
                for service in domain.background:
                    await stack.enter_async_context(service(context))
            yield

    app = FastAPI(
        title="openbwv",
        version=__version__,
        description="Body-worn video, Taser and oversight management for a police force.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters_in_request)],
    )
    app.state.settings = settings
    app.state.navigation = navigation_of(domains)
    app.state.session_factory = session_factory or make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )
    app.state.login_policy = LoginPolicy(
        max_failures_per_account=settings.login_max_failures,
        max_failures_per_address=settings.login_address_max_failures,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
        token_ttl=timedelta(minutes=settings.token_ttl_minutes),
        secret_key=settings.resolved_secret_key.encode(),
    )
    # Policy sits below the packages that know callers and record refusals; they are handed to it here.
    app.state.callers = CallerServices(
        identify=identify_caller, is_device_credential=is_device_credential, record_refusal=record_refusal
    )
    # Notifications sit below the domains; the people domain tells them which unit an officer serves in.
    app.state.unit_of_officer = colleagues.unit_of_officer
    app.state.unread_notifications = unread_for
    # The misuse rules the domains declare: the alerts pages and API show and tune those that run.
    app.state.misuse_rules = tuple(rule for domain in domains for rule in domain.misuse_rules)
    metrics = app.state.metrics = Metrics()
    # Added innermost first: the request log sees every answer, and every answer gets the headers.
    app.add_middleware(RequestGuard, routes=routes)
    tiles = settings.map_tile_source
    app.add_middleware(SecurityHeaders, img_sources=(tiles,) if tiles else ())
    app.add_middleware(RequestLog, metrics=metrics)
    install_error_handlers(app)

    @app.get("/healthz", dependencies=[Public], tags=["operations"])
    def healthz(factory: SessionFactory) -> dict[str, str]:
        """Whether the service and its database answer."""
        with factory() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get(
        "/metrics",
        dependencies=[Public],
        tags=["operations"],
        responses={
            200: {
                "description": "Prometheus text format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **error_responses(403),
        },
    )
    def prometheus_metrics(request: Request) -> Response:
        """Request counts and latencies in Prometheus text format, for the addresses the force
        allows or a caller with the metrics token."""
        if not may_read_metrics(request):
            raise Forbidden(
                "Metrics are readable only from the addresses the force allows, or with its token."
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for domain in domains:
        for router in domain.routers:
            app.include_router(router)
    mount_libraries(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
