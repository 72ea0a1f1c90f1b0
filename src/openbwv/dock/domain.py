"""The dock domain's declaration: the ``openbwv dock`` agent, which runs beside a dock, not in the
server (no routes, no jobs)."""

from openbwv.dock.cli import dock_app
from openbwv.domains import Domain

DOMAIN = Domain(name="dock", cli={"dock": dock_app})
