"""The fleet domain's declaration, Taser training included: API and pages, header links, the daily
authority check and the ``training``, ``import`` and ``devices`` commands."""

from openbwv.domains import Domain
from openbwv.fleet import jobs
from openbwv.fleet.api import router as api
from openbwv.fleet.cli import devices_app, import_app, training_app
from openbwv.fleet.counter_pages import router as counter_pages
from openbwv.fleet.import_pages import router as import_pages
from openbwv.fleet.pages import router as pages
from openbwv.fleet.training.api import router as training_api
from openbwv.fleet.training.pages import router as training_pages
from openbwv.policy import Permission
from openbwv.web.render import NavItem

DOMAIN = Domain(
    name="fleet",
    routers=(api, training_api, pages, counter_pages, import_pages, training_pages),
    navigation=(
        NavItem("My kit", "/kit", Permission.SELF_READ, order=40, officers_only=True),
        NavItem("Fleet", "/fleet/devices", Permission.FLEET_DEVICE_READ, order=50),
        NavItem("Issue and return", "/fleet/counter", Permission.FLEET_ISSUE_WRITE, order=60),
        NavItem("Roll-out", "/fleet/rollout", Permission.FLEET_DEVICE_READ, order=70),
        NavItem("Taser authority", "/training/expiry", Permission.TRAINING_RECORD_READ, order=80),
        NavItem("Training", "/training", Permission.TRAINING_RECORD_READ, order=90),
    ),
    jobs=jobs.registry,
    cli={"training": training_app, "import": import_app, "devices": devices_app},
)
