"""Headers on every answer: a Content Security Policy, no MIME sniffing, no referrer to other
sites, and no caching of anything but static files, since pages and API answers carry personal data.

The pages use no inline script or style, so the policy allows only this site's own files, and
images also from the map's tile server when the force names one (``OPENBWV_MAP_TILE_URL``). The
API's interactive documentation (``/docs``, ``/redoc``) loads its viewer from a CDN with an
inline start-up script, and gets a policy that allows just that.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
# ``media-src blob:``: the live view player feeds its video element through Media Source Extensions.
PAGE_POLICY = (
    f"default-src 'self'; img-src 'self' data:; media-src 'self' blob:; form-action 'self'; {_COMMON}"
)


def page_policy(*, img_sources: tuple[str, ...] = ()) -> str:
    """The pages' policy, with images also allowed from ``img_sources`` (a map's tile server)."""
    if not img_sources:
        return PAGE_POLICY
    return PAGE_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {' '.join(img_sources)}")


DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    f"https://cdn.redoc.ly; worker-src 'self' blob:; {_COMMON}"
)
DOCS_PATHS = ("/docs", "/redoc")
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, img_sources: tuple[str, ...] = ()) -> None:
        self.app = app
        self.page_policy = page_policy(img_sources=img_sources)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = (
                    DOCS_POLICY if path.startswith(DOCS_PATHS) else self.page_policy
                )
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if not path.startswith(STATIC_PREFIX):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
