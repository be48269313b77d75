"""BacklineAccess as other languages see it: typed args that mirror the stack config one to one.

Pulumi's analyzer (`pulumi.provider.experimental.analyzer`) infers the package schema from these annotations at run
time. It reads no `Union`, no `Literal` and no string annotations (`from __future__ import annotations`), so this
module keeps to what it reads: TypedDicts whose keys are the stack config's own camelCase keys (the inputs reach
`parse_config` as they came, with the checks and messages a stack file gets), enums for the closed choices, and the
outputs redeclared with real annotations. The descriptions come from `stack-config.schema.json` (see
`provider.py`), so this module has none of its own for the inputs.
"""

from enum import Enum
from typing import Any, NotRequired, TypedDict

import pulumi

from ..config import parse_config
from ..deploy import BacklineAccess as PythonBacklineAccess


class ServicePrincipalMode(Enum):
    ENSURE = "ensure"
    EXISTING = "existing"


class AksGrantAt(Enum):
    CLUSTER = "cluster"
    SUBSCRIPTION = "subscription"


# The type names are those of the stack config schema's definitions: the descriptions are found by them.
class ClusterRef(TypedDict):
    resourceGroup: str
    name: str
    subscription: NotRequired[str]


class AksSelection(TypedDict, total=False):
    subscription: str
    managementGroup: str
    clusters: list[ClusterRef]
    all: bool
    exclude: list[ClusterRef]
    grantAt: AksGrantAt
    resourceGroups: list[str]


class ServicePrincipalConfig(TypedDict, total=False):
    mode: ServicePrincipalMode
    objectId: str
    deleteOnDestroy: bool


class BacklineAccessArgs(TypedDict):
    tenantId: str
    subscriptions: NotRequired[list[str]]
    managementGroups: NotRequired[list[str]]
    aks: NotRequired[list[AksSelection]]
    servicePrincipal: NotRequired[ServicePrincipalConfig]
    aksRequireAzureRbac: NotRequired[bool]


class BacklineAccess(PythonBacklineAccess):
    """Read-only access for Backline in one Azure tenant: the service principal of Backline's app, Reader on each
    subscription and management group, and Azure Kubernetes Service RBAC Reader on the AKS clusters selected. The
    inputs are those of the stack config of backline-access, and plain values: they decide which grants exist, so
    they must be known at preview (a literal or a stack config value, not another resource's output)."""

    tenant_id: pulumi.Output[str]
    """The tenant the access is in."""
    subscription_ids: pulumi.Output[str]
    """The subscriptions with Reader, comma-separated (what Backline's onboarding form asks for)."""
    application_id: pulumi.Output[str]
    """The application (client) id of Backline's multi-tenant app."""
    service_principal_object_id: pulumi.Output[str]
    """The object id of Backline's service principal in the tenant."""
    reader_assignments: pulumi.Output[dict[str, str]]
    """The Reader role assignment ids, by subscription id."""
    aks_assignments: pulumi.Output[dict[str, str]]
    """The Azure Kubernetes Service RBAC Reader role assignment ids, by the scope each is at (a cluster, or the
    subscription, resource group or management group above clusters)."""
    management_group_assignments: pulumi.Output[dict[str, str]]
    """The Reader role assignment ids, by management group id."""
    admin_consent_url: pulumi.Output[str]
    """The URL where a Global Administrator grants admin consent to Backline's app."""
    verification_commands: pulumi.Output[list[str]]
    """The az commands that show the access, as the product page's verification section gives them."""

    def __init__(self, name: str, args: BacklineAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, parse_config(as_stack_config(args)), opts)


def as_stack_config(args: BacklineAccessArgs) -> dict[str, Any]:
    """The args in the stack config's shape: an enum member becomes its value (a Python program may pass one)."""
    return dict(_plain(dict(args)))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
