"""The notifications' declaration: the page behind the bell in the header (the bell is not a link
in the navigation)."""

from openbwv.domains import Domain
from openbwv.notifications.pages import router as pages

DOMAIN = Domain(name="notifications", routers=(pages,))
