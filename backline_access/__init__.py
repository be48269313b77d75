"""backline-access: read-only access for Backline in an Azure tenant, as a Pulumi component."""

from .component import BacklineAccess
from .config import AccessConfig, AksSelection, ClusterRef, ServicePrincipalConfig, parse_config
from .problems import ConfigError, Problem
from .roles import AKS_RBAC_READER, BACKLINE_APP_ID, READER

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
