"""The live domain's declaration: live view's API (telemetry and the map join it)."""

from openbwv.domains import Domain
from openbwv.live.views_api import router as views_api

DOMAIN = Domain(name="live", routers=(views_api,))
