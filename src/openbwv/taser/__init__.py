"""Taser: deployment reports in the Home Office use-of-force categories, checked against who held
the Taser and their authority at the time."""

from openbwv.taser.service import (
    DeploymentFilter,
    DeploymentRefused,
    file_deployment,
    get_deployment,
    list_deployments,
)

__all__ = [
    "DeploymentFilter",
    "DeploymentRefused",
    "file_deployment",
    "get_deployment",
    "list_deployments",
]
