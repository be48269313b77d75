"""backline-access: read-only access for Backline in an Azure tenant, as a Pulumi component.

The public names load on first use (PEP 562), so that the `backline-access` command can answer Ctrl-C from its
first moment, before Pulumi and the Azure SDKs are imported."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The one place the version is written: pyproject.toml reads it, and so does the plugin's schema.
__version__ = "0.1.0"

if TYPE_CHECKING:
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

_MODULE_OF = {
    "AKS_RBAC_READER": ".config",
    "BACKLINE_APP_ID": ".config",
    "READER": ".config",
    "AccessConfig": ".config",
    "AksSelection": ".config",
    "BacklineAccess": ".deploy",
    "ClusterRef": ".config",
    "ConfigError": ".config",
    "Problem": ".config",
    "ServicePrincipalConfig": ".config",
    "parse_config": ".config",
}

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


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name], __name__), name)
    globals()[name] = value
    return value
