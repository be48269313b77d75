"""The BacklineAccess component: turns the plan into Pulumi resources, all parented to it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization

from ..azure import (
    AssignmentReads,
    AzureFailure,
    AzureReadError,
    ClusterInfo,
    ClusterReads,
    EstateReader,
    GroupReads,
    RoleAssignmentInfo,
    reader_from_provider_token,
    resolve_cloud,
    unreadable_scopes,
)
from ..config import (
    BACKLINE_APP_ID,
    MANAGEMENT_GROUPS_FIX,
    AccessConfig,
    Cloud,
    CloudChoice,
    ClusterId,
    ServicePrincipalConfig,
    management_group_scope,
    parse_config,
    provider_config_from_pulumi,
)
from ..plan import AccessPlan, PlannedAssignment, broad_aks_grants, build_plan, clusters_covered
from ..verify import verify_after_update
from .adoption import (
    Adoption,
    Declaration,
    adopt,
    declared_inputs,
    held_principal,
    id_parts,
    moved_from,
    unrequested,
)
from .preflight import (
    PreflightError,
    check_clusters,
    guard_tenant,
    judge_clusters,
    lookup_service_principal,
    missing_service_principal_error,
    provider_token,
    signed_in_or_stop,
)
from .providers import ARM, GRAPH, ArmProvider, given_providers, provider_settings
from .stack_state import COMPONENT_TYPE, StackState, read_stack_state
from .urn import Urn

MANAGED_SPELLINGS = ["scope", "roleDefinitionId"]
AKS_SCOPES_ASKED = "aksScopesAsked"
# How long the reads before anything is registered may take, and the checks after `pulumi up` (which never
# fail the update: what they cannot read in time is unknown, with `backline-access verify` to run).
PREFLIGHT_SECONDS = 300.0
POST_DEPLOY_SECONDS = 60.0
# The one-run switch for lost state: with the state unknown, grants under this project's own names are imported too.
STATE_LOST_SWITCH = "BACKLINE_ACCESS_STATE_LOST"

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
    management_group_assignments: pulumi.Output[dict[str, str]]
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
        settings = provider_settings(handed_over, secret_keys, os.environ, plan.tenant_id, plan.home_subscription)
        # The state first, before anything is registered: a component renamed or moved under another keeps its
        # resources by an alias to the URN the state holds it under.
        self._state = read_stack_state()
        moved = moved_from(self._state, plan)
        if moved is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[moved]))
        super().__init__(COMPONENT_TYPE, name, None, opts)

        given = given_providers(opts)
        self._settings = settings
        self._given = given
        arm = given.get(ARM) or ArmProvider(
            f"{name}-arm",
            settings.extra_arm_settings(),
            **settings.arguments(ARM),
            opts=pulumi.ResourceOptions(parent=self),
        )
        cloud = self._cloud(settings.cloud, online=reader is None)
        guard_tenant(plan.tenant_id, arm, parent=self, cloud=cloud)
        # After an update (never in preview, never offline), the checks run once the grants exist.
        verifies = reader is None and cloud is not None and not pulumi.runtime.is_dry_run()
        # The read side: given (offline), or over HTTP as the provider's identity, made on first use.
        self._reads: object = reader
        self._online = (arm, cloud) if reader is None else None
        self._bridged: list[tuple[str, RoleAssignmentInfo]] = []
        with signed_in_or_stop(plan.tenant_id, cloud):
            below = self._subscriptions_below(access) if access.groups_to_read() else None
            found, covered = self._clusters_reached(access, below, cloud)
            if found is not None or below is not None or covered:
                plan = build_plan(access, found, below, [info.cluster for info in covered])
            for warning in plan.warnings:
                pulumi.log.warn(warning, resource=self)
            if plan.clusters:
                check_clusters(plan.clusters, self._read_side(), access.aks_require_azure_rbac, self, cloud)
            judge_clusters(covered, access.aks_require_azure_rbac, self, cloud)
            consent_url = _admin_consent_url(plan, cloud, settings.cloud)
            graph, existing = self._find_principal(name, access.service_principal, plan, consent_url)
            known_principal = access.service_principal.object_id or existing
            in_azure = self._existing_access(plan, known_principal) if known_principal else {}
        principal_id, grants_depend_on = self._declare_principal(name, access.service_principal, graph, existing)
        assignments = {
            planned: self._assign(name, planned, principal_id, arm, grants_depend_on, in_azure.get(planned))
            for planned in plan.assignments
        }
        for urn, grant in self._bridged:
            self._keep(urn, grant, principal_id, arm, grants_depend_on)

        self.tenant_id = pulumi.Output.from_input(plan.tenant_id)
        self.subscription_ids = pulumi.Output.from_input(plan.subscription_ids_csv)
        self.application_id = pulumi.Output.from_input(plan.app_id)
        self.service_principal_object_id = pulumi.Output.from_input(principal_id)
        self.reader_assignments = _assignment_ids(assignments, "subscription")
        self.aks_assignments = _assignment_ids(assignments, "cluster")
        self.management_group_assignments = _assignment_ids(assignments, "group")
        self.admin_consent_url = pulumi.Output.from_input(consent_url)
        prefix = cloud.az_prefix() if cloud else ""
        self.verification_commands = self.service_principal_object_id.apply(
            lambda object_id: [prefix + command for command in plan.verification_commands(object_id)]
        )
        self.verification: pulumi.Output[dict[str, Any]] | None = None
        if verifies and cloud is not None:
            online = self._read_side()
            granted = [resource.id for resource in assignments.values()]
            self.verification = pulumi.Output.all(principal_id, *granted).apply(
                lambda values: verify_after_update(plan, _bounded(online), cloud, str(values[0]), self)
            )
        # Beside the outputs: where the config asks for AKS RBAC Reader above clusters, for the policy pack, which
        # sees a component's registered outputs and allows such grants only there.
        self.register_outputs({**self.outputs(), AKS_SCOPES_ASKED: access.aks_scopes_asked()})

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

    def _read_side(self) -> Any:
        if self._reads is None and self._online is not None:
            arm, cloud = self._online
            if cloud is None:  # only offline, where a reader is always given
                raise PreflightError("the cloud's endpoints are unknown")
            reads = reader_from_provider_token(
                cloud, provider_token(arm, self, cloud), refresh=lambda: provider_token(arm, self, cloud)
            )
            reads.set_deadline(PREFLIGHT_SECONDS, f"{PREFLIGHT_SECONDS:.0f} s the preflight may take")
            self._reads = reads
        return self._reads

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack outputs, under the names the README documents."""
        return {
            "tenantId": self.tenant_id,
            "subscriptionIds": self.subscription_ids,
            "applicationId": self.application_id,
            "servicePrincipalObjectId": self.service_principal_object_id,
            "readerAssignments": self.reader_assignments,
            "aksAssignments": self.aks_assignments,
            "managementGroupAssignments": self.management_group_assignments,
            "adminConsentUrl": self.admin_consent_url,
            "verificationCommands": self.verification_commands,
            **({"verification": self.verification} if self.verification is not None else {}),
        }

    def _find_principal(
        self, name: str, settings: ServicePrincipalConfig, plan: AccessPlan, consent_url: str
    ) -> tuple[pulumi.ProviderResource | None, str | None]:
        """The Graph provider (none with `objectId`) and the object id of Backline's principal if it exists."""
        if settings.object_id:
            return None, settings.object_id
        graph = self._given.get(GRAPH) or azuread.Provider(
            f"{name}-graph", **self._settings.arguments(GRAPH), opts=pulumi.ResourceOptions(parent=self)
        )
        existing = lookup_service_principal(graph, parent=self)
        if settings.mode == "existing" and existing is None:
            raise missing_service_principal_error(plan.tenant_id, consent_url)
        return graph, existing

    def _clusters_reached(
        self, access: AccessConfig, below: Mapping[str, Sequence[str]] | None, cloud: Cloud | None
    ) -> tuple[dict[str, list[ClusterId]] | None, list[ClusterInfo]]:
        """The clusters Azure has now where the config reaches them without naming them, in one listing: each
        subscription of an `all: true` entry (granted one by one), and what the grants above clusters cover
        (their Azure RBAC is checked; a broad grant itself needs no list). Offline, nothing is read."""
        per_cluster = [s.subscription for s in access.all_cluster_selections() if s.subscription is not None]
        broad = broad_aks_grants(access)
        broad_subscriptions = [g.subscription_id for g in broad if g.subscription_id is not None]
        broad_subscriptions += [
            s for g in broad if g.management_group for s in (below or {}).get(g.management_group, [])
        ]
        wanted = list(dict.fromkeys([*per_cluster, *broad_subscriptions]))
        if not wanted:
            return None, []
        inventory = self._read_side().clusters_in(wanted)
        unlisted = {s: f for s, f in inventory.failures.items() if s in per_cluster}
        if unlisted:
            raise PreflightError(
                "Cannot list the AKS clusters of the subscriptions with all: true; nothing was granted:\n"
                + unreadable_scopes(unlisted, "the deployer", in_subscriptions=True)
            )
        unchecked = {s: f for s, f in inventory.failures.items() if s not in per_cluster}
        if unchecked:
            message = (
                "Cannot list the AKS clusters below the grants above clusters, to check their Azure RBAC for "
                "Kubernetes:\n" + unreadable_scopes(unchecked, "the deployer", in_subscriptions=True)
            )
            if access.aks_require_azure_rbac:
                raise PreflightError(message + "\n    (aksRequireAzureRbac is true; nothing was granted)")
            pulumi.log.warn(message + "\n    The grants are made anyway: they need no list of clusters.", resource=self)
        found = {s: [i.cluster for i in inventory.clusters.get(s, [])] for s in per_cluster if s in inventory.clusters}
        infos = [info for listed in inventory.clusters.values() for info in listed]
        covered = set(clusters_covered(broad, [info.cluster for info in infos], below))
        return (found if per_cluster else None), [info for info in infos if info.cluster in covered]

    def _subscriptions_below(self, access: AccessConfig) -> dict[str, list[str]] | None:
        """Every subscription below each management group of the config (one paged listing per group); None
        when the groups were not read (offline). A group that cannot be read stops the run before anything is
        granted."""
        reads = self._read_side()
        if not isinstance(reads, GroupReads):
            return None
        groups = access.groups_to_read()
        inventory = reads.subscriptions_below(groups)
        if inventory.failures:
            raise PreflightError(
                "Cannot read the management groups of the stack config; nothing was granted:\n"
                + "\n".join(_group_problem(group, failure) for group, failure in inventory.failures.items())
            )
        if any(group not in inventory.subscriptions for group in groups):
            return None
        return inventory.subscriptions

    def _existing_access(self, plan: AccessPlan, principal_id: str) -> dict[PlannedAssignment, Declaration]:
        """The planned grants Azure already has, read before anything is registered (one listing per subscription
        or group), and how each is declared: imported unless this stack's state already holds it."""
        reads = self._read_side()
        if not isinstance(reads, AssignmentReads):
            return {}
        inventory = reads.role_assignments(principal_id, plan.listing_scopes)
        if inventory.failures:
            raise PreflightError(
                "Cannot read the existing role assignments of Backline's service principal (to adopt them instead of "
                "failing with RoleAssignmentExists); nothing was granted:\n"
                + unreadable_scopes(inventory.failures, "the deployer")
            )
        for left in unrequested(plan, principal_id, inventory.assignments, self._state):
            pulumi.log.warn(
                f"Backline's service principal also has role {left.role_guid} at {left.scope} "
                f"(assignment {left.name}), which this stack does not ask for and did not create: left alone. "
                f"Remove it by hand if it should go: az role assignment delete --ids {left.id}",
                resource=self,
            )
        switched = os.environ.get(STATE_LOST_SWITCH) == "true"
        adoption = adopt(plan, principal_id, inventory.assignments, self._state, adopt_own_names=switched)
        if adoption.blocking:
            raise _conditional_error(adoption.blocking)
        for warning in _state_warnings(adoption, self._state, switched):
            pulumi.log.warn(warning, resource=self)
        self._bridged = list(adoption.bridged)
        return dict(adoption.declarations)

    def _declare_principal(
        self,
        name: str,
        settings: ServicePrincipalConfig,
        graph: pulumi.ProviderResource | None,
        existing: str | None,
    ) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        """The principal's object id (plain when already known, so `pulumi preview` shows it on every
        assignment) and what the assignments must depend on."""
        if settings.object_id or graph is None:
            return settings.object_id or "", []
        # `existing` declares the principal too (imported, retained, nothing changed): a stack that created it
        # with deleteOnDestroy and then switches to `existing` must not delete it because it left the program.
        # Held by this stack's state: declared with no import id, under the URN the state holds it (a rename).
        held = held_principal(self._state, existing) if existing else None
        principal = azuread.ServicePrincipal(
            f"{name}-service-principal",
            client_id=BACKLINE_APP_ID,
            use_existing=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=graph,
                import_=service_principal_id(existing) if existing and not held else None,
                aliases=[held] if held else None,
                ignore_changes=SERVICE_PRINCIPAL_SETTINGS,
                retain_on_delete=not settings.delete_on_destroy,
            ),
        )
        if existing is None:
            return principal.object_id, []
        # Adopted: the id is known now. Only when destroy deletes the principal must the grants go first.
        return existing, [principal] if settings.delete_on_destroy else []

    def _keep(
        self,
        urn: str,
        grant: RoleAssignmentInfo,
        grantee: pulumi.Input[str],
        provider: pulumi.ProviderResource,
        depends_on: list[pulumi.Resource],
    ) -> authorization.RoleAssignment:
        """An AKS grant the plan drops, kept for this update as the state holds it (see `adoption._bridged`)."""
        scope, assignment = id_parts(grant.id)
        return authorization.RoleAssignment(
            Urn.parse(urn).name,
            principal_id=grantee,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=grant.role_definition_id,
            scope=scope,
            role_assignment_name=assignment,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                ignore_changes=MANAGED_SPELLINGS,
                aliases=[urn],
                delete_before_replace=True,
                depends_on=depends_on or None,
            ),
        )

    def _assign(
        self,
        name: str,
        planned: PlannedAssignment,
        grantee: pulumi.Input[str],
        provider: pulumi.ProviderResource,
        depends_on: list[pulumi.Resource],
        declaration: Declaration | None,
    ) -> authorization.RoleAssignment:
        inputs: dict[str, Any] = {
            "principal_id": grantee,
            "principal_type": authorization.PrincipalType.SERVICE_PRINCIPAL,
            **declared_inputs(planned, declaration),
        }
        return authorization.RoleAssignment(
            f"{name}-{planned.key}",
            **inputs,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                # Only what the stack does not manage yet is imported (see Declaration).
                import_=declaration.import_id if declaration else None,
                # Managed and still in Azure: the logical name pins scope and role (it is made of their ids), so
                # another spelling of either, in ARM's answer or in an earlier run's text, is the same grant and
                # never a replacement, which would delete Backline's live access.
                ignore_changes=MANAGED_SPELLINGS if declaration and declaration.managed else None,
                # Held by the state under another URN (the component was renamed or moved): moved, never deleted.
                aliases=[declaration.alias] if declaration and declaration.alias else None,
                # The name is derived from the scope, so a replacement reuses it: delete first.
                delete_before_replace=True,
                depends_on=depends_on or None,
            ),
        )


def _bounded(reads: Any) -> Any:
    """The read side, its clock reset for the checks after the update."""
    if isinstance(reads, EstateReader):
        reads.set_deadline(POST_DEPLOY_SECONDS, f"{POST_DEPLOY_SECONDS:.0f} s the checks after pulumi up may take")
    return reads


def _admin_consent_url(plan: AccessPlan, cloud: Cloud | None, choice: CloudChoice) -> str:
    if cloud is not None:
        return cloud.admin_consent_url(plan.tenant_id, plan.app_id)
    return f"<login endpoint of {choice.metadata_host}>/{plan.tenant_id}/adminconsent?client_id={plan.app_id}"


def _assignment_ids(
    assignments: Mapping[PlannedAssignment, authorization.RoleAssignment], kind: str
) -> pulumi.Output[dict[str, str]]:
    """The ids of one kind of grant ("subscription", "cluster" or "group"), keyed by what they grant on."""
    chosen = {key: resource.id for p, resource in assignments.items() for of, key in [_granted_on(p)] if of == kind}
    return pulumi.Output.from_input(chosen)


def _granted_on(planned: PlannedAssignment) -> tuple[str, str]:
    """Which output a grant is in, under which key: AKS RBAC Reader by its scope (a cluster's resource id, or the
    subscription, resource group or management group above clusters), Reader by subscription id or group id."""
    if planned.cluster is not None:
        return "cluster", planned.cluster.resource_id
    if planned.broad:
        return "cluster", planned.scope
    if planned.management_group is not None:
        return "group", planned.management_group
    return "subscription", str(planned.subscription_id)


def _conditional_error(blocking: Mapping[PlannedAssignment, RoleAssignmentInfo]) -> PreflightError:
    lines = [
        f"  - {planned.role.name} at {planned.scope}: assignment {found.id} has the condition {found.condition!r}\n"
        f"    fix: remove the condition (az role assignment update, or the portal), or delete it and let this stack "
        f"grant: az role assignment delete --ids {found.id}"
        for planned, found in blocking.items()
    ]
    return PreflightError(
        f"Backline's service principal already holds {len(lines)} of the planned role(s) with a condition. Azure takes "
        "principal, role and scope as one assignment, so granting them unconditioned would fail with 409 "
        "RoleAssignmentExists, and adopting them would take their condition for this stack's grant. Nothing was "
        "granted:\n" + "\n".join(lines)
    )


def _state_warnings(adoption: Adoption, state: StackState, switched: bool) -> list[str]:
    """What the state says that a reviewer must know: grants it holds that Azure does not, grants taken as this
    stack's own while its state is unknown, and the lost-state switch where it has no effect."""
    warnings: list[str] = []
    if adoption.drift:
        lines = [
            f"  - {d.planned.role.name} at {d.planned.scope}: assignment {d.held.name}"
            + (f" (Azure has an equivalent, {d.instead.name}: after the refresh it is adopted)" if d.instead else "")
            for d in adoption.drift
        ]
        warnings.append(
            f"{len(lines)} grant(s) in this stack's state are missing in Azure (deleted outside Pulumi?). Until a "
            "refresh, Pulumi believes they exist and grants nothing, so Backline lacks this access:\n"
            + "\n".join(lines)
            + "\n    fix: pulumi up --refresh (reads every resource of the stack, then grants what is missing)"
        )
    if adoption.own_in_unknown_state:
        scopes = ", ".join(p.scope for p in adoption.own_in_unknown_state[:3])
        more = len(adoption.own_in_unknown_state) - 3
        warnings.append(
            f"{len(adoption.own_in_unknown_state)} planned grant(s) exist in Azure under this project's own names "
            f"({scopes}{f' and {more} more' if more > 0 else ''}), and this stack's state is unknown "
            f"({state.unknown_because}): they are declared as this stack's own, with no import. If pulumi up fails "
            "on them with 'cannot create already existing resource', the stack that made them is lost: run "
            f"{STATE_LOST_SWITCH}=true pulumi up once to adopt them"
        )
    if adoption.bridged:
        kept = ", ".join(grant.scope for _, grant in adoption.bridged[:3])
        more = len(adoption.bridged) - 3
        warnings.append(
            f"{len(adoption.bridged)} AKS RBAC Reader grant(s) that the plan no longer asks for ({kept}"
            f"{f' and {more} more' if more > 0 else ''}) are kept for this update: a new grant reaching the same "
            "clusters is made now and may take minutes to take effect, so Backline is never without access. The next "
            "pulumi up that finds the new grant in Azure removes them."
        )
    if switched and state.known:
        warnings.append(
            f"{STATE_LOST_SWITCH}=true has no effect: this stack's state was read, and grants it does not hold are "
            "adopted anyway. Unset it."
        )
    return warnings


def _group_problem(group: str, failure: AzureFailure) -> str:
    scope = management_group_scope(group)
    if failure.forbidden or failure.not_found:
        return (
            f"  - managementGroups: {group} does not exist, or the deployer may not read it ({failure.describe()})\n"
            f"    fix: use the group's id, not its display name ({MANAGEMENT_GROUPS_FIX}); the deployer needs Reader "
            f"(or Management Group Reader) on {scope}, and Owner or Role Based Access Control Administrator there "
            "to grant"
        )
    return (
        f"  - managementGroups: {group}: {failure.describe()}\n    fix: run again; if it persists, check Azure's status"
    )
