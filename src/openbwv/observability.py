"""Structured request logs, request ids and Prometheus metrics."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbwv.config import IPNetwork

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_address_var: ContextVar[str | None] = ContextVar("client_address", default=None)

REQUEST_LOGGER = logging.getLogger("openbwv.request")


class JsonFormatter(logging.Formatter):
    """One JSON object a line; extra fields passed as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True


def address_in(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request) -> str:
    """The caller's address, for sign-in throttling and the audit log.

    The peer's address, unless the peer is a proxy listed in ``OPENBWV_TRUSTED_PROXIES``: then
    ``X-Forwarded-For`` is read from the right, past every trusted proxy, and the first address
    that is not one is the client's. Anything to its left was written by the client and is ignored.
    """
    trusted: tuple[IPNetwork, ...] = request.app.state.settings.trusted_proxy_networks
    address = request.client.host if request.client else "unknown"
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    while hops and address_in(address, trusted):
        hop = hops.pop()
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return address


_FORWARDED_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def public_base_url(request: Request) -> str:
    """The base URL the client called, for links the API answers with (a tus upload's ``Location``).

    The request's own, unless the peer is a proxy listed in ``OPENBWV_TRUSTED_PROXIES``: then the
    scheme and host it forwarded (``X-Forwarded-Proto``, ``X-Forwarded-Host``; the nearest proxy's,
    the last value) replace the request's. A client's own forwarded headers are never believed.
    """
    base = str(request.base_url).rstrip("/")
    trusted: tuple[IPNetwork, ...] = request.app.state.settings.trusted_proxy_networks
    peer = request.client.host if request.client else ""
    if not address_in(peer, trusted):
        return base
    url = urlsplit(base)
    scheme, host = url.scheme, url.netloc
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    if proto in ("http", "https"):
        scheme = proto
    forwarded_host = request.headers.get("x-forwarded-host", "").split(",")[-1].strip()
    if _FORWARDED_HOST.match(forwarded_host):
        host = forwarded_host
    return urlunsplit((scheme, host, url.path, "", ""))


def may_read_metrics(request: Request) -> bool:
    """Whether the caller is at an address in ``OPENBWV_METRICS_ALLOW`` (by default loopback only) or
    sends ``OPENBWV_METRICS_TOKEN`` as a bearer token."""
    settings = request.app.state.settings
    if address_in(client_address(request), settings.metrics_networks):
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (
        bool(settings.metrics_token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode())
    )


class Metrics:
    """The app's own registry, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "openbwv_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "openbwv_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )

    def counter(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
        """The counter ``name`` in this registry, made on first use: for what a domain counts."""
        found = self._counters.get(name)
        if found is None:
            found = self._counters[name] = Counter(name, documentation, labels, registry=self.registry)
        return found

    def gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        """The gauge ``name`` in this registry, made on first use."""
        found = self._gauges.get(name)
        if found is None:
            found = self._gauges[name] = Gauge(name, documentation, labels, registry=self.registry)
        return found


def app_metrics(request: Request) -> Metrics:
    """The serving app's metrics, for a route that counts something of its own."""
    metrics: Metrics = request.app.state.metrics
    return metrics


def _route_template(request: Request) -> str:
    """The matched route's path template, so metrics do not grow a label per record id."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestLog:
    """Assign a request id, log one JSON line per request and count it.

    A plain ASGI middleware rather than a ``@app.middleware("http")`` function: Starlette runs those
    through ``BaseHTTPMiddleware``, which starts a task group for every message of a request body.
    With 200 uploads streaming at once its garbage had the collector pause the event loop for over
    100 ms every second, and ordinary calls waited behind it (see docs/PERFORMANCE.md).
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = (request.headers.get("x-request-id") or uuid.uuid4().hex)[:64]
        id_token = request_id_var.set(request_id)
        address_token = client_address_var.set(client_address(request))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(request)
            self.metrics.requests.labels(request.method, route, str(status)).inc()
            self.metrics.latency.labels(request.method, route).observe(elapsed)
            REQUEST_LOGGER.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.url.path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client_address_var.get(),
                    }
                },
            )
            request_id_var.reset(id_token)
            client_address_var.reset(address_token)
