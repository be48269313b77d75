"""Checks against Azure that run before anything is granted: the tenant guard, the service principal lookup
and the AKS cluster preflight. `pulumi preview` runs them too. A check that gets no answer is "could not be
checked", never passed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization

from ..azure import ClusterInfo, ClusterReads, ClusterState, SignInError
from ..config import (
    BACKLINE_APP_ID,
    OBJECT_ID_FIX,
    SUBSCRIPTIONS_FIX,
    Cloud,
    ClusterId,
    clusters_fix,
    login_fix,
    rbac_fix,
)

_SERVICE_PRINCIPAL_NOT_FOUND = "no service principal found"


class PreflightError(pulumi.RunError):
    """Azure is not in a state where access can be granted; nothing was changed."""


def guard_tenant(
    expected_tenant: str, provider: pulumi.ProviderResource, parent: pulumi.Resource, cloud: Cloud | None
) -> None:
    """Stop before anything is registered when the credentials belong to another tenant."""
    try:
        client = authorization.get_client_config(opts=pulumi.InvokeOptions(provider=provider, parent=parent))
    except Exception as error:  # noqa: BLE001 - any failure to read the credentials is reported the same way
        raise PreflightError(
            f"Cannot read the Azure credentials for tenant {expected_tenant}: {error}\n"
            f"    fix: {login_fix(expected_tenant, cloud)}"
        ) from None
    actual = str(getattr(client, "tenant_id", None) or "").lower()
    if not actual:
        raise PreflightError(
            f"Tenant guard could not be checked: the azure-native provider returned no tenant for its credentials, "
            f"so nothing was granted.\n    fix: {login_fix(expected_tenant, cloud)}, then run again"
        )
    if actual != expected_tenant:
        raise PreflightError(
            f"Tenant guard: the Azure credentials belong to tenant {actual}, but backline-access:tenantId is "
            f"{expected_tenant}. Nothing was changed.\n"
            f"    fix: {login_fix(expected_tenant, cloud)}, or correct backline-access:tenantId"
        )


@contextmanager
def signed_in_or_stop(tenant_id: str, cloud: Cloud | None) -> Iterator[None]:
    """A token that fails after the first (the provider's credentials expired, or getClientToken failed on a
    refresh) stops the preflight with the fix, before anything is registered; never a traceback."""
    try:
        yield
    except SignInError as error:
        raise PreflightError(
            f"Cannot sign in to Azure as the azure-native provider ({error.message}), so nothing was granted.\n"
            f"    fix: {login_fix(tenant_id, cloud)}, then run again"
        ) from None


def provider_token(provider: pulumi.ProviderResource, parent: pulumi.Resource, cloud: Cloud) -> str:
    """The azure-native provider's own Resource Manager token: the read side reads as the identity that grants."""
    try:
        result = authorization.get_client_token(
            endpoint=cloud.resource_manager, opts=pulumi.InvokeOptions(provider=provider, parent=parent)
        )
    except Exception as error:  # noqa: BLE001 - reported with the fix, like the tenant guard
        raise PreflightError(f"Cannot get a Resource Manager token from the azure-native provider: {error}") from None
    token = str(getattr(result, "token", None) or "")
    if not token:
        raise PreflightError(
            "AKS preflight could not be checked: the azure-native provider returned no token for Resource Manager, "
            "so nothing was granted.\n"
            "    fix: check the provider's credentials (az account get-access-token), then run again"
        )
    return token


def lookup_service_principal(provider: pulumi.ProviderResource, parent: pulumi.Resource) -> str | None:
    """The object id of Backline's service principal in this tenant, or None when it does not exist."""
    try:
        found = azuread.get_service_principal(
            client_id=BACKLINE_APP_ID, opts=pulumi.InvokeOptions(provider=provider, parent=parent)
        )
    except Exception as error:  # noqa: BLE001 - classified below, re-raised with the fix
        if _SERVICE_PRINCIPAL_NOT_FOUND in str(error).lower():
            return None
        raise PreflightError(
            f"Cannot look up the service principal of app {BACKLINE_APP_ID}: {error}\n"
            "    fix: the deployer needs Application.Read.All (or Directory.Read.All) in Microsoft Graph; "
            "or set backline-access:servicePrincipal.objectId to skip Graph entirely "
            f"({OBJECT_ID_FIX})"
        ) from None
    object_id = str(getattr(found, "object_id", None) or "")
    if not object_id:
        raise PreflightError(
            f"The service principal lookup could not be checked: Microsoft Graph answered without an object id for "
            f"app {BACKLINE_APP_ID}, so nothing was granted.\n"
            f"    fix: run again; or set backline-access:servicePrincipal.objectId ({OBJECT_ID_FIX})"
        )
    return object_id.lower()


def missing_service_principal_error(tenant_id: str, consent_url: str) -> PreflightError:
    return PreflightError(
        f"The service principal of Backline's app {BACKLINE_APP_ID} does not exist in tenant {tenant_id}, "
        "and servicePrincipal.mode is 'existing' (look up only).\n"
        f"    fix: create it: az ad sp create --id {BACKLINE_APP_ID}\n"
        f"    or let an admin consent: {consent_url}\n"
        "    or set servicePrincipal.mode: ensure to let this stack create it"
    )


def check_clusters(
    clusters: Sequence[ClusterId],
    reader: ClusterReads,
    require_azure_rbac: bool,
    parent: pulumi.Resource,
    cloud: Cloud | None = None,
) -> None:
    """Read every selected cluster through the read side, then judge them together: warn (or fail) on Azure
    RBAC off, fail on missing or unreadable clusters. It returns only when all reads are done, so a failed
    check stops the program before any grant or service principal is registered."""
    if clusters:
        _judge(reader.read_clusters(clusters), require_azure_rbac, parent, cloud.az_prefix() if cloud else "")


def judge_clusters(
    found: Sequence[ClusterInfo], require_azure_rbac: bool, parent: pulumi.Resource, cloud: Cloud | None = None
) -> None:
    """Clusters already read (below a grant above clusters): Azure RBAC off warns, or fails with
    `aksRequireAzureRbac`, as for a listed cluster."""
    if found:
        states = [ClusterState(info.cluster, found=info) for info in found]
        _judge(states, require_azure_rbac, parent, cloud.az_prefix() if cloud else "")


def _problem(state: ClusterState, az: str) -> str | None:
    cluster = state.cluster
    where = (
        f"AKS cluster '{cluster.name}' (resource group '{cluster.resource_group}', "
        f"subscription {cluster.subscription_id})"
    )
    if state.unchecked is not None:
        return f"{where} could not be checked: {state.unchecked}"
    failure = state.failure
    if failure is not None and failure.subscription_not_found:
        return (
            f"Subscription {cluster.subscription_id} of AKS cluster '{cluster.name}' was not found or is not "
            f"visible to the deployer ({failure.describe()})\n    fix: {az}{SUBSCRIPTIONS_FIX}"
        )
    if failure is not None and failure.forbidden:
        return (
            f"{where} cannot be read: the deployer may not list the clusters of {failure.scope} "
            f"({failure.describe()})\n    fix: give the deployer Reader (or more) on {failure.scope}"
        )
    if failure is not None:
        return f"{where} cannot be read: {failure.describe()}\n    fix: run again; if it persists, check Azure's status"
    if state.missing:
        return f"{where} was not found.\n    fix: {az}{clusters_fix(cluster.subscription_id)}"
    return None


def _judge(states: Sequence[ClusterState], require_azure_rbac: bool, parent: pulumi.Resource, az: str) -> None:
    """`az`: what goes before every az command outside the public cloud (`az cloud set --name ... && `)."""
    errors: list[str] = []
    for state in states:
        problem = _problem(state, az)
        if problem is not None:
            errors.append(problem)
        elif state.found is not None and not state.found.azure_rbac:
            cluster = state.cluster
            message = (
                f"AKS cluster '{cluster.name}' (resource group '{cluster.resource_group}') has Azure RBAC for "
                "Kubernetes authorization disabled: the AKS RBAC Reader assignment takes effect only once "
                f"it is enabled.\n    fix: {az}{rbac_fix(cluster)}"
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
