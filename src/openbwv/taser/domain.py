"""The taser domain's declaration: the deployment reports' JSON routes, and the figures of use."""

from __future__ import annotations

from openbwv.domains import Domain
from openbwv.policy import Permission
from openbwv.taser.api import router as api
from openbwv.taser.figures_api import router as figures_api
from openbwv.taser.figures_pages import router as figures_pages
from openbwv.web.render import NavItem

DOMAIN = Domain(
    name="taser",
    routers=(api, figures_api, figures_pages),
    navigation=(NavItem("Taser figures", "/taser/figures", Permission.TASER_FIGURES_READ, order=98),),
)
