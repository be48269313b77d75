"""The Azure read side: the only part of the project that speaks HTTP.

The component, the CLI and the checks call it; nothing here knows of Pulumi resources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from azure.core.credentials import TokenCredential

from ..config import Cloud
from .errors import AzureFailure, AzureReadError, SignInError, unreadable_scopes
from .identity import ProviderToken, SharedCredential, credential_from_environment, resolve_cloud
from .model import (
    AssignmentInventory,
    AssignmentReads,
    ClusterInfo,
    ClusterInventory,
    ClusterReads,
    ClusterState,
    DirectoryOwner,
    EntraHoldings,
    GrantedPermission,
    GroupInventory,
    GroupReads,
    PrincipalCredential,
    RoleAssignmentInfo,
    RoleDefinitionInfo,
    ServicePrincipalRecord,
)
from .reads import EstateReader
from .transport import AzureHttp, ReadRetryPolicy

__all__ = [
    "AssignmentInventory",
    "AssignmentReads",
    "AzureFailure",
    "AzureReadError",
    "ClusterInfo",
    "ClusterInventory",
    "ClusterReads",
    "ClusterState",
    "DirectoryOwner",
    "EntraHoldings",
    "EstateReader",
    "GrantedPermission",
    "GroupInventory",
    "GroupReads",
    "PrincipalCredential",
    "RoleAssignmentInfo",
    "RoleDefinitionInfo",
    "ServicePrincipalRecord",
    "SignInError",
    "reader_for",
    "reader_from_environment",
    "reader_from_provider_token",
    "resolve_cloud",
    "unreadable_scopes",
]


def reader_for(
    cloud: Cloud, credential: TokenCredential, token: str | None = None, retry: ReadRetryPolicy | None = None
) -> EstateReader:
    arm = AzureHttp(cloud.resource_manager, credential, cloud.arm_scope, retry=retry)
    graph = AzureHttp(cloud.graph, credential, f"{cloud.graph}/.default", retry=retry) if cloud.graph else None
    return EstateReader(arm, graph, token=token)


def reader_from_provider_token(
    cloud: Cloud, token: str, retry: ReadRetryPolicy | None = None, refresh: Callable[[], str] | None = None
) -> EstateReader:
    """Inside the Pulumi program: the azure-native provider's token (Resource Manager only); `refresh` asks the
    provider for another when it nears its `exp`."""
    credential = SharedCredential(ProviderToken(token, refresh))
    arm = AzureHttp(cloud.resource_manager, credential, cloud.arm_scope, retry=retry)
    return EstateReader(arm, token=token)


def reader_from_environment(
    environ: Mapping[str, str],
    cloud: Cloud,
    tenant_id: str | None,
    retry: ReadRetryPolicy | None = None,
    settings: Mapping[str, str] | None = None,
) -> EstateReader:
    """Outside Pulumi: azure-identity from the provider settings and ARM_* variables the providers read."""
    return reader_for(cloud, credential_from_environment(environ, cloud, tenant_id, settings), retry=retry)
