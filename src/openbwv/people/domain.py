"""The people domain's declaration: officers and user accounts, their header links, the ``users``
command, and the misuse rule that needs to know who is whose colleague."""

from openbwv.audit.misuse import OwnOrColleagueFootage
from openbwv.domains import Domain
from openbwv.people import colleagues
from openbwv.people.api import router as api
from openbwv.people.cli import users_app
from openbwv.people.pages import router as pages
from openbwv.policy import Permission
from openbwv.web.render import NavItem

DOMAIN = Domain(
    name="people",
    routers=(api, pages),
    navigation=(
        NavItem("Officers", "/officers", Permission.PEOPLE_OFFICER_READ, order=20),
        NavItem("Users", "/users", Permission.USERS_ACCOUNT_READ, order=30),
    ),
    misuse_rules=(OwnOrColleagueFootage(relation=colleagues.footage_relation),),
    cli={"users": users_app},
)
