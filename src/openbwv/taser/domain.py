"""The taser domain's declaration: the deployment reports' JSON routes."""

from __future__ import annotations

from openbwv.domains import Domain
from openbwv.taser.api import router as api

DOMAIN = Domain(name="taser", routers=(api,))
