"""backline-access: read-only access for Backline in an Azure tenant, as a Pulumi component."""

from .config import (
    AKS_RBAC_READER,
    BACKLINE_APP_ID,
    READER,
    AccessConfig,
    AksSelection,
    ClusterRef,
    ConfigError,
    Problem,
    ServicePrincipalConfig,
    parse_config,
)
from .deploy import BacklineAccess

__all__ = [
    "AKS_RBAC_READER",
    "BACKLINE_APP_ID",
    "READER",
    "AccessConfig",
    "AksSelection",
    "BacklineAccess",
    "ClusterRef",
    "ConfigError",
    "Problem",
    "ServicePrincipalConfig",
    "parse_config",
]
