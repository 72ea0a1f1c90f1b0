"""The home page's declaration: its page and the first link in the header."""

from openbwv.dashboard.pages import router
from openbwv.domains import Domain
from openbwv.policy import Permission
from openbwv.web.render import NavItem

DOMAIN = Domain(
    name="dashboard",
    routers=(router,),
    navigation=(NavItem("Home", "/", Permission.SELF_READ, order=10),),
)
