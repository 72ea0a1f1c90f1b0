"""Browser libraries the pages use, installed from the npm registry by the set-up (``npm ci`` in
``make``, as ``package-lock.json`` pins them) and never committed: served from ``/static/vendor``.

A server without them still serves every page; a page that needs one says it is not installed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from openbwv.config import Settings

# src/openbwv/web/vendor.py -> the source checkout's root, where `npm ci` puts node_modules.
CHECKOUT_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
VENDOR_PREFIX = "/static/vendor"
# Each library by the name its pages use, and the folder of its package served as it is.
LIBRARIES = {"leaflet": Path("leaflet") / "dist"}


def library_dir(settings: Settings, name: str) -> Path | None:
    """Where the library ``name`` was installed, or None if it was not."""
    folder = (settings.node_modules or CHECKOUT_NODE_MODULES) / LIBRARIES[name]
    return folder if folder.is_dir() else None


def mount_libraries(app: FastAPI, settings: Settings) -> None:
    """Serve each installed library's files under ``/static/vendor/<name>``, and note which are
    served; call before ``/static`` is mounted, which would otherwise answer for these paths."""
    served = set()
    for name in LIBRARIES:
        folder = library_dir(settings, name)
        if folder is not None:
            app.mount(f"{VENDOR_PREFIX}/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
            served.add(name)
    app.state.libraries = frozenset(served)


def library_served(request: Request, name: str) -> bool:
    """Whether the app serves the library ``name``, for a page to load it or say it cannot."""
    return name in getattr(request.app.state, "libraries", frozenset())
