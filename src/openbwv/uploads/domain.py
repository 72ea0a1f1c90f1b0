"""The uploads domain's declaration: the tus endpoint docks send footage to, the job that expires
unfinished uploads and the ``docks`` command."""

from openbwv.domains import Domain
from openbwv.uploads.api import router as api
from openbwv.uploads.cli import docks_app
from openbwv.uploads.jobs import registry_for

DOMAIN = Domain(name="uploads", routers=(api,), jobs=registry_for, cli={"docks": docks_app})
