"""The BacklineAccess component: turns the plan into Pulumi resources, all parented to it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_azuread as azuread
from pulumi_azure_native import authorization

from .azure import AzureReadError, ClusterReads, EstateReader, reader_from_provider_token, resolve_cloud
from .clouds import Cloud, CloudChoice
from .config import AccessConfig, ServicePrincipalConfig, parse_config
from .config_source import provider_config_from_pulumi
from .plan import AccessPlan, PlannedAssignment, build_plan
from .preflight import (
    PreflightError,
    check_clusters,
    guard_tenant,
    lookup_service_principal,
    missing_service_principal_error,
    provider_token,
)
from .providers import ARM, GRAPH, given_providers, provider_settings
from .roles import BACKLINE_APP_ID
from .verification import verify_after_update

COMPONENT_TYPE = "backline:index:BacklineAccess"

# Everything a customer (or the bash script, or admin consent) may have set on an adopted service
# principal: adopting it must never change these. Only clientId is ours.
SERVICE_PRINCIPAL_SETTINGS = [
    "accountEnabled",
    "alternativeNames",
    "appRoleAssignmentRequired",
    "description",
    "featureTags",
    "features",
    "loginUrl",
    "notes",
    "notificationEmailAddresses",
    "owners",
    "preferredSingleSignOnMode",
    "samlSingleSignOn",
    "tags",
    "useExisting",
]


def service_principal_id(object_id: str) -> str:
    """The id pulumi-azuread v6 (terraform-provider-azuread v3) stores for a service principal after Create,
    and so the only import id that later runs see as already imported: `/servicePrincipals/<object id>`."""
    return f"/servicePrincipals/{object_id}"


class BacklineAccess(pulumi.ComponentResource):
    """Read-only access for Backline in one Azure tenant: the service principal of Backline's app,
    Reader on each subscription and Azure Kubernetes Service RBAC Reader on each selected AKS cluster."""

    tenant_id: pulumi.Output[str]
    subscription_ids: pulumi.Output[str]
    application_id: pulumi.Output[str]
    service_principal_object_id: pulumi.Output[str]
    reader_assignments: pulumi.Output[dict[str, str]]
    aks_assignments: pulumi.Output[dict[str, str]]
    admin_consent_url: pulumi.Output[str]
    verification_commands: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        config: AccessConfig | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        reader: ClusterReads | None = None,
    ) -> None:
        """`config`: an AccessConfig, or a mapping in the stack-config shape. `opts.providers` may carry an
        `azure-native` and an `azuread` provider to use instead of the component's own pair. `reader` answers the
        preflight's questions in-process (the offline plan); by default they go to Azure over HTTP, as the
        azure-native provider's identity."""
        # An AccessConfig has passed every check when it was built; a mapping is checked here.
        access = config if isinstance(config, AccessConfig) else parse_config(config)
        plan = build_plan(access)
        handed_over, secret_keys = provider_config_from_pulumi()
        settings = provider_settings(
            handed_over, secret_keys, os.environ, plan.tenant_id, plan.provider_subscriptions[0]
        )
        super().__init__(COMPONENT_TYPE, name, None, opts)
        for warning in plan.warnings:
            pulumi.log.warn(warning, resource=self)

        given = given_providers(opts)
        self._settings = settings
        self._given = given
        arm = given.get(ARM) or azure_native.Provider(
            f"{name}-arm", **settings.arguments(ARM), opts=pulumi.ResourceOptions(parent=self)
        )
        cloud = self._cloud(settings.cloud, online=reader is None)
        guard_tenant(plan.tenant_id, arm, parent=self, cloud=cloud)
        # After an update (never in preview, never offline), the checks run once the grants exist.
        verifies = reader is None and cloud is not None and not pulumi.runtime.is_dry_run()
        online = self._http_reader(arm, cloud) if reader is None and (plan.clusters or verifies) else None
        cluster_reads: ClusterReads | None = reader or online
        if plan.clusters and cluster_reads is not None:
            check_clusters(plan.clusters, cluster_reads, access.aks_require_azure_rbac, self, cloud)
        consent_url = _admin_consent_url(plan, cloud, settings.cloud)
        principal_id, grants_depend_on = self._service_principal(name, access.service_principal, plan, consent_url)
        assignments = {
            planned: self._assign(name, planned, principal_id, arm, grants_depend_on) for planned in plan.assignments
        }

        self.tenant_id = pulumi.Output.from_input(plan.tenant_id)
        self.subscription_ids = pulumi.Output.from_input(plan.subscription_ids_csv)
        self.application_id = pulumi.Output.from_input(plan.app_id)
        self.service_principal_object_id = pulumi.Output.from_input(principal_id)
        self.reader_assignments = _assignment_ids(assignments, clusters=False)
        self.aks_assignments = _assignment_ids(assignments, clusters=True)
        self.admin_consent_url = pulumi.Output.from_input(consent_url)
        prefix = cloud.az_prefix() if cloud else ""
        self.verification_commands = self.service_principal_object_id.apply(
            lambda object_id: [prefix + command for command in plan.verification_commands(object_id)]
        )
        self.verification: pulumi.Output[dict[str, Any]] | None = None
        if verifies and online is not None and cloud is not None:
            granted = [resource.id for resource in assignments.values()]
            self.verification = pulumi.Output.all(principal_id, *granted).apply(
                lambda values: verify_after_update(plan, online, cloud, str(values[0]), self)
            )
        self.register_outputs(self.outputs())

    def _cloud(self, choice: CloudChoice, online: bool) -> Cloud | None:
        """The cloud's endpoints; a custom cloud's are read from its metadata host (online runs only)."""
        if choice.named is not None or not online:
            return choice.named
        try:
            return resolve_cloud(choice)
        except AzureReadError as error:
            raise PreflightError(
                f"Cannot read the cloud's endpoints from {choice.source}={choice.metadata_host}: {error}\n"
                "    fix: check the host name (it serves /metadata/endpoints), or unset it for the public cloud"
            ) from None

    def _http_reader(self, arm: pulumi.ProviderResource, cloud: Cloud | None) -> EstateReader:
        if cloud is None:  # only offline, where a reader is always given
            raise PreflightError("the cloud's endpoints are unknown")
        return reader_from_provider_token(cloud, provider_token(arm, self, cloud))

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack outputs, under the names the README documents."""
        return {
            "tenantId": self.tenant_id,
            "subscriptionIds": self.subscription_ids,
            "applicationId": self.application_id,
            "servicePrincipalObjectId": self.service_principal_object_id,
            "readerAssignments": self.reader_assignments,
            "aksAssignments": self.aks_assignments,
            "adminConsentUrl": self.admin_consent_url,
            "verificationCommands": self.verification_commands,
            **({"verification": self.verification} if self.verification is not None else {}),
        }

    def _service_principal(
        self,
        name: str,
        settings: ServicePrincipalConfig,
        plan: AccessPlan,
        consent_url: str,
    ) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        """The principal's object id (plain when already known, so `pulumi preview` shows it on every
        assignment) and what the assignments must depend on."""
        if settings.object_id:
            return settings.object_id, []
        graph = self._given.get(GRAPH) or azuread.Provider(
            f"{name}-graph", **self._settings.arguments(GRAPH), opts=pulumi.ResourceOptions(parent=self)
        )
        existing = lookup_service_principal(graph, parent=self)
        if settings.mode == "existing" and existing is None:
            raise missing_service_principal_error(plan.tenant_id, consent_url)
        # `existing` declares the principal too (imported, retained, nothing changed): a stack that created it
        # with deleteOnDestroy and then switches to `existing` must not delete it because it left the program.
        principal = azuread.ServicePrincipal(
            f"{name}-service-principal",
            client_id=BACKLINE_APP_ID,
            use_existing=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=graph,
                import_=service_principal_id(existing) if existing else None,
                ignore_changes=SERVICE_PRINCIPAL_SETTINGS,
                retain_on_delete=not settings.delete_on_destroy,
            ),
        )
        if existing is None:
            return principal.object_id, []
        # Adopted: the id is known now. Only when destroy deletes the principal must the grants go first.
        return existing, [principal] if settings.delete_on_destroy else []

    def _assign(
        self,
        name: str,
        planned: PlannedAssignment,
        grantee: pulumi.Input[str],
        provider: pulumi.ProviderResource,
        depends_on: list[pulumi.Resource],
    ) -> authorization.RoleAssignment:
        return authorization.RoleAssignment(
            f"{name}-{planned.key}",
            principal_id=grantee,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=planned.role_definition_id,
            scope=planned.scope,
            role_assignment_name=planned.name,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                # The name is derived from the scope, so a replacement reuses it: delete first.
                delete_before_replace=True,
                depends_on=depends_on or None,
            ),
        )


def _admin_consent_url(plan: AccessPlan, cloud: Cloud | None, choice: CloudChoice) -> str:
    if cloud is not None:
        return cloud.admin_consent_url(plan.tenant_id, plan.app_id)
    return f"<login endpoint of {choice.metadata_host}>/{plan.tenant_id}/adminconsent?client_id={plan.app_id}"


def _assignment_ids(
    assignments: Mapping[PlannedAssignment, authorization.RoleAssignment], clusters: bool
) -> pulumi.Output[dict[str, str]]:
    chosen = {
        (p.cluster.resource_id if p.cluster else p.subscription_id): resource.id
        for p, resource in assignments.items()
        if (p.cluster is not None) == clusters
    }
    return pulumi.Output.from_input(chosen)
