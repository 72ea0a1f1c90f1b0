"""The auth domain's declaration: the token endpoint and the sign-in pages."""

from openbwv.auth.api import router as api
from openbwv.auth.pages import router as pages
from openbwv.domains import Domain

DOMAIN = Domain(name="auth", routers=(api, pages))
