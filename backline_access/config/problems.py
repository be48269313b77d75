"""Problems with what a user gave us: a path, the bad value, what is wrong and the command that fixes it.

They stay values until the edge of the program (the CLI or the Pulumi program), where they are printed once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .clouds import Cloud
from .identifiers import ClusterId
from .roles import BACKLINE_APP_ID

TENANT_FIX = "az account show --query tenantId -o tsv"
SUBSCRIPTIONS_FIX = 'az account list --query "[].id" -o tsv'
MANAGEMENT_GROUPS_FIX = 'az account management-group list --query "[].{id:name, displayName:displayName}" -o table'
OBJECT_ID_FIX = f"az ad sp show --id {BACKLINE_APP_ID} --query id -o tsv"
_MISSING = object()


def clusters_fix(subscription_id: str | None) -> str:
    target = f" --subscription {subscription_id}" if subscription_id else ""
    return f'az aks list{target} --query "[].{{name:name, resourceGroup:resourceGroup, id:id}}" -o table'


def login_fix(tenant_id: str | None, cloud: Cloud | None, az_missing: bool = False) -> str:
    """How to sign in to the tenant. When the Azure CLI was the way in and is not installed (`az_missing`),
    `az login` alone would be a dead end, so the other ways in are named too."""
    prefix = cloud.az_prefix() if cloud else ""
    tenant = f" --tenant {tenant_id}" if tenant_id else ""
    if az_missing:
        return (
            f"the Azure CLI (az) is not installed here: install it (https://aka.ms/installazurecli), then "
            f"{prefix}az login{tenant}; or sign in without it: ARM_CLIENT_ID with ARM_CLIENT_SECRET or "
            "ARM_CLIENT_CERTIFICATE_PATH (an app registration of that tenant), ARM_USE_OIDC=true in CI, or "
            "ARM_USE_MSI=true on an Azure machine with a managed identity"
        )
    return (
        f"{prefix}az login{tenant} (in CI: ARM_TENANT_ID={tenant_id or '<tenant id>'} and the OIDC client of that "
        "tenant)"
    )


def rbac_fix(cluster: ClusterId) -> str:
    # The product page's command, plus --subscription so it cannot hit the CLI's default subscription.
    return (
        f"az aks update --resource-group {cluster.resource_group} --name {cluster.name} --enable-azure-rbac "
        f"--subscription {cluster.subscription_id}"
    )


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str | None = None
    value: Any = _MISSING

    def render(self) -> str:
        shown = "" if self.value is _MISSING else f" {_show(self.value)}"
        text = f"{self.path}:{shown} {self.message}" if self.path else f"{shown.strip()} {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def format_path(parts: Iterable[str | int]) -> str:
    """('aks', 0, 'clusters', 1, 'name') -> 'aks[0].clusters[1].name'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class ConfigError(pulumi.RunError):
    """The stack config is invalid. A RunError, so that `pulumi up` prints it without a traceback."""

    def __init__(self, problems: Sequence[Problem], heading: str = "Invalid backline-access stack config") -> None:
        self.problems = tuple(problems)
        self.heading = heading
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        lines = [f"{self.heading} ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {problem.render()}" for problem in self.problems]
        return "\n".join(lines)
