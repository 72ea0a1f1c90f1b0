"""The axis domain's declaration: the Axis Body Worn Integration API and the ``axis`` command."""

from openbwv.axis.api import router as api
from openbwv.axis.cli import axis_app
from openbwv.domains import Domain

DOMAIN = Domain(name="axis", routers=(api,), cli={"axis": axis_app})
