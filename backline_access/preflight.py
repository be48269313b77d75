"""Checks against Azure that run before anything is granted: the tenant guard, the service principal
lookup and the AKS cluster preflight. They use provider invokes, so `pulumi preview` runs them too."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_azuread as azuread
from pulumi.runtime.sync_await import _sync_await
from pulumi_azure_native import authorization, containerservice

from .identifiers import ClusterId
from .problems import OBJECT_ID_FIX, SUBSCRIPTIONS_FIX, clusters_fix
from .roles import BACKLINE_APP_ID, admin_consent_url

GET_MANAGED_CLUSTER = "azure-native:containerservice:getManagedCluster"
_CLUSTER_NOT_FOUND = re.compile(r"ResourceNotFound|ResourceGroupNotFound|\b404\b", re.IGNORECASE)
_SUBSCRIPTION_NOT_FOUND = re.compile(r"SubscriptionNotFound|InvalidSubscriptionId", re.IGNORECASE)
_SERVICE_PRINCIPAL_NOT_FOUND = re.compile(r"no service principal found", re.IGNORECASE)
# ARM allows 250 reads in a burst per subscription and principal; stay well inside it.
MAX_CONCURRENT_CLUSTER_READS = 32


class PreflightError(pulumi.RunError):
    """Azure is not in a state where access can be granted; nothing was changed."""


def guard_tenant(expected_tenant: str, provider: azure_native.Provider, parent: pulumi.Resource) -> None:
    """Stop before anything is registered when the credentials belong to another tenant."""
    try:
        client = authorization.get_client_config(opts=pulumi.InvokeOptions(provider=provider, parent=parent))
    except Exception as error:  # noqa: BLE001 - any failure to read the credentials is reported the same way
        raise PreflightError(
            f"Cannot read the Azure credentials for tenant {expected_tenant}: {error}\n"
            f"    fix: az login --tenant {expected_tenant} (in CI: set ARM_TENANT_ID and the OIDC "
            "client of that tenant)"
        ) from None
    actual = (client.tenant_id or "").lower()
    if actual != expected_tenant:
        raise PreflightError(
            f"Tenant guard: the Azure credentials belong to tenant {actual or '(unknown)'}, but "
            f"backline-access:tenantId is {expected_tenant}. Nothing was changed.\n"
            f"    fix: az login --tenant {expected_tenant} (in CI: ARM_TENANT_ID={expected_tenant}), "
            "or correct backline-access:tenantId"
        )


def lookup_service_principal(provider: azuread.Provider, parent: pulumi.Resource) -> str | None:
    """The object id of Backline's service principal in this tenant, or None when it does not exist."""
    try:
        found = azuread.get_service_principal(
            client_id=BACKLINE_APP_ID, opts=pulumi.InvokeOptions(provider=provider, parent=parent)
        )
    except Exception as error:  # noqa: BLE001 - classified below, re-raised with the fix
        if _SERVICE_PRINCIPAL_NOT_FOUND.search(str(error)):
            return None
        raise PreflightError(
            f"Cannot look up the service principal of app {BACKLINE_APP_ID}: {error}\n"
            "    fix: the deployer needs Application.Read.All (or Directory.Read.All) in Microsoft Graph; "
            "or set backline-access:servicePrincipal.objectId to skip Graph entirely "
            f"({OBJECT_ID_FIX})"
        ) from None
    return str(found.object_id).lower()


def missing_service_principal_error(tenant_id: str) -> PreflightError:
    return PreflightError(
        f"The service principal of Backline's app {BACKLINE_APP_ID} does not exist in tenant {tenant_id}, "
        "and servicePrincipal.mode is 'existing' (look up only).\n"
        f"    fix: create it: az ad sp create --id {BACKLINE_APP_ID}\n"
        f"    or let an admin consent: {admin_consent_url(tenant_id)}\n"
        "    or set servicePrincipal.mode: ensure to let this stack create it"
    )


@dataclass(frozen=True)
class ClusterState:
    cluster: ClusterId
    azure_rbac: bool | None = None
    error: str | None = None

    @property
    def missing(self) -> bool:
        return self.error is not None and _CLUSTER_NOT_FOUND.search(self.error) is not None

    @property
    def subscription_missing(self) -> bool:
        return self.error is not None and _SUBSCRIPTION_NOT_FOUND.search(self.error) is not None


def check_clusters(
    clusters: Sequence[ClusterId],
    providers: Mapping[str, azure_native.Provider],
    require_azure_rbac: bool,
    parent: pulumi.Resource,
) -> None:
    """Read every cluster concurrently, then judge them together: warn (or fail) on Azure RBAC off,
    fail on missing or unreadable clusters. It returns only when all reads are done, so a failed check
    stops the program before any grant or service principal is registered."""
    if not clusters:
        return
    slots = asyncio.Semaphore(MAX_CONCURRENT_CLUSTER_READS)
    reads = asyncio.gather(*(_read_cluster(c, providers[c.subscription_id], parent, slots) for c in clusters))
    # The same blocking wait the SDK's synchronous invokes use; the reads themselves run concurrently.
    _judge(_sync_await(reads), require_azure_rbac, parent)


async def _read_cluster(
    cluster: ClusterId, provider: azure_native.Provider, parent: pulumi.Resource, slots: asyncio.Semaphore
) -> ClusterState:
    # invoke_async, not get_managed_cluster_output: the output form turns a failed read into an unhandled
    # error of the whole program, and we want every cluster's result before judging.
    try:
        async with slots:
            result = await pulumi.runtime.invoke_async(
                GET_MANAGED_CLUSTER,
                {"resourceGroupName": cluster.resource_group, "resourceName": cluster.name},
                opts=pulumi.InvokeOptions(provider=provider, parent=parent),
                typ=containerservice.GetManagedClusterResult,
            )
    except Exception as error:  # noqa: BLE001 - kept per cluster and judged together
        return ClusterState(cluster, error=str(error))
    profile = result.aad_profile if result is not None else None
    return ClusterState(cluster, azure_rbac=bool(profile and profile.enable_azure_rbac))


def rbac_fix(cluster: ClusterId) -> str:
    # The product page's command, plus --subscription so it cannot hit the CLI's default subscription.
    return (
        f"az aks update --resource-group {cluster.resource_group} --name {cluster.name} --enable-azure-rbac "
        f"--subscription {cluster.subscription_id}"
    )


def _judge(states: Sequence[ClusterState], require_azure_rbac: bool, parent: pulumi.Resource) -> None:
    errors: list[str] = []
    for state in states:
        cluster = state.cluster
        if state.subscription_missing:
            errors.append(
                f"Subscription {cluster.subscription_id} of AKS cluster '{cluster.name}' was not found or is not "
                f"visible to the deployer: {state.error}\n    fix: {SUBSCRIPTIONS_FIX}"
            )
        elif state.missing:
            errors.append(
                f"AKS cluster '{cluster.name}' (resource group '{cluster.resource_group}', subscription "
                f"{cluster.subscription_id}) was not found.\n    fix: {clusters_fix(cluster.subscription_id)}"
            )
        elif state.error is not None:
            errors.append(
                f"AKS cluster '{cluster.name}' (resource group '{cluster.resource_group}') cannot be read: "
                f"{state.error}\n    fix: the deployer needs Reader (or more) on {cluster.resource_id}"
            )
        elif not state.azure_rbac:
            message = (
                f"AKS cluster '{cluster.name}' (resource group '{cluster.resource_group}') has Azure RBAC for "
                "Kubernetes authorization disabled: the AKS RBAC Reader assignment takes effect only once "
                f"it is enabled.\n    fix: {rbac_fix(cluster)}"
            )
            if require_azure_rbac:
                errors.append(message + "  (aksRequireAzureRbac is true)")
            else:
                pulumi.log.warn(
                    message + "\n    The assignment is made now, so enabling it later needs no re-run.",
                    resource=parent,
                )
    if errors:
        raise PreflightError(
            f"AKS preflight failed for {len(errors)} cluster(s); nothing was granted:\n  - " + "\n  - ".join(errors)
        )
