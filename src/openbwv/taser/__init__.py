"""Taser: deployment reports in the Home Office use-of-force categories, checked against who held
the Taser and their authority at the time."""

from openbwv.taser.schemas import DeploymentIn, DeploymentOut
from openbwv.taser.service import (
    DeploymentFilter,
    DeploymentRefused,
    file_deployment,
    get_deployment,
    list_deployments,
)

__all__ = [
    "DeploymentFilter",
    "DeploymentIn",
    "DeploymentOut",
    "DeploymentRefused",
    "file_deployment",
    "get_deployment",
    "list_deployments",
]
