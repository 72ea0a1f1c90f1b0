"""The access domain's declaration: reasons for access and grants, their API and pages, header
links and the ``reasons`` command."""

from openbwv.access.api import router as api
from openbwv.access.cli import reasons_app
from openbwv.access.pages import router as pages
from openbwv.domains import Domain
from openbwv.policy import Permission
from openbwv.web.render import NavItem

DOMAIN = Domain(
    name="access",
    routers=(api, pages),
    navigation=(
        NavItem("My access", "/access/grants", Permission.ACCESS_GRANT_REQUEST, order=120),
        NavItem("Reasons for access", "/access/reasons", Permission.ACCESS_REASON_WRITE, order=130),
    ),
    cli={"reasons": reasons_app},
)
