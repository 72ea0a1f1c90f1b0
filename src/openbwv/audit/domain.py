"""The audit domain's declaration: the log's API and pages, its jobs, and the standard misuse rules.

The misuse job runs every domain's declared misuse rules, not only these.
"""

from openbwv.audit import jobs, misuse, viewing
from openbwv.audit.api import router as api
from openbwv.audit.cli import audit_app
from openbwv.audit.pages import router as pages
from openbwv.domains import Domain, JobContext
from openbwv.jobs import JobRegistry
from openbwv.policy import Permission
from openbwv.web.render import NavItem


def _jobs(context: JobContext) -> JobRegistry:
    return jobs.registry_for(context.settings, rules=misuse.declared_rules(context.misuse_rules))


DOMAIN = Domain(
    name="audit",
    routers=(api, pages),
    navigation=(
        NavItem("Audit", "/audit", Permission.AUDIT_EVENT_READ, order=100),
        NavItem("Alerts", "/audit/alerts", Permission.AUDIT_ALERT_READ, order=110),
    ),
    jobs=_jobs,
    misuse_rules=(*misuse.default_rules(), *viewing.viewing_rules()),
    cli={"audit": audit_app},
)
