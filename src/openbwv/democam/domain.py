"""The demo cameras' declaration: a job recording clips, scheduled only under ``openbwv demo``."""

from openbwv.democam.jobs import registry_for
from openbwv.domains import Domain

DOMAIN = Domain(name="democam", jobs=registry_for)
