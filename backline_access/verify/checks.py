"""The product page's verification, run for real: the checks, their evidence and their fixes.

One library for two entry points: `pulumi up` runs it once after the grants, and `backline-access verify`
runs it until everything passes or the wait runs out. Reads go through the read side; nothing is changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pulumi

from ..azure import (
    AssignmentInventory,
    AzureReadError,
    ClusterInventory,
    ClusterState,
    EntraHoldings,
    GroupInventory,
    RoleAssignmentInfo,
    RoleDefinitionInfo,
    SignInError,
)
from ..config import (
    AKS_RBAC_READER,
    BACKLINE_APP_ID,
    MANAGEMENT_GROUPS_FIX,
    READER,
    SUBSCRIPTIONS_FIX,
    AccessConfig,
    Cloud,
    ClusterId,
    Role,
    clusters_fix,
    login_fix,
    management_group_of,
    management_group_scope,
    parse_cluster_resource_id,
    rbac_fix,
    subscription_scope,
)
from ..plan import AccessPlan, broad_aks_grants, build_plan, clusters_covered
from .entra_privilege import NOT_READ_IN_PULUMI, entra_checks
from .least_privilege import least_privilege_checks
from .model import STATUSES, Check, Status

__all__ = ["STATUSES", "Check", "Status"]


class ClusterAndGroupReads(Protocol):
    def clusters_in(self, subscriptions: Iterable[str]) -> ClusterInventory: ...
    def subscriptions_below(self, groups: Iterable[str]) -> GroupInventory: ...


class VerificationReads(Protocol):
    def credentials_tenant(self) -> str | None: ...
    def service_principal(self, app_id: str) -> str | None: ...
    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory: ...
    def read_clusters(self, clusters: Sequence[ClusterId]) -> list[ClusterState]: ...
    def role_definition(self, role_definition_id: str) -> RoleDefinitionInfo: ...
    def entra_holdings(self, object_id: str) -> EntraHoldings | None: ...


@dataclass(frozen=True)
class Scopes:
    """What to check: all of the plan at first, then only what has not passed yet."""

    subscriptions: tuple[str, ...]
    clusters: tuple[ClusterId, ...]
    management_groups: tuple[str, ...] = ()
    aks_scopes: tuple[str, ...] = ()  # AKS RBAC Reader above clusters: subscriptions, resource groups, groups

    @classmethod
    def of(cls, plan: AccessPlan) -> Scopes:
        clusters = tuple(sorted({*plan.clusters, *plan.covered_clusters}))
        aks_scopes = tuple(grant.scope for grant in plan.broad_grants)
        return cls(plan.reader_subscriptions, clusters, plan.management_groups, aks_scopes)


def verify(
    plan: AccessPlan,
    reader: VerificationReads,
    cloud: Cloud,
    principal_id: str | None = None,
    scopes: Scopes | None = None,
    just_granted: bool = False,
) -> list[Check]:
    """Every check of the plan's access (or of `scopes`). Right after the grants (`just_granted`), a missing
    assignment is `pending` (propagation), not `fail`."""
    tenant = _tenant_check(plan, reader, cloud)
    if tenant.status != "pass":
        return [tenant]
    try:
        checks = _access_checks(plan, reader, cloud, principal_id, scopes or Scopes.of(plan))
    except SignInError as error:  # a token that fails after the first (another audience, MFA, expiry)
        return [tenant, _sign_in_check(plan, cloud, error)]
    return [tenant, *([_pending_if_missing(check) for check in checks] if just_granted else checks)]


def _access_checks(
    plan: AccessPlan, reader: VerificationReads, cloud: Cloud, principal_id: str | None, scopes: Scopes
) -> list[Check]:
    az = cloud.az_prefix()
    principal, object_id = _principal_check(plan, reader, cloud, principal_id)
    if object_id is None:
        return [principal]
    aks_listed = [_listed_at(scope) for scope in scopes.aks_scopes]
    subscriptions = sorted(set(scopes.subscriptions) | {c.subscription_id for c in scopes.clusters})
    listed = [subscription_scope(s) for s in subscriptions] + [
        management_group_scope(g) for g in scopes.management_groups
    ]
    listed += [scope for scope in aks_listed if scope not in listed]
    inventory = reader.role_assignments(object_id, listed)
    checks = [principal]
    checks += [_reader_check(subscription_scope(s), object_id, inventory, az) for s in scopes.subscriptions]
    checks += [_reader_check(management_group_scope(g), object_id, inventory, az) for g in scopes.management_groups]
    checks += [_broad_aks_check(scope, object_id, inventory, az) for scope in scopes.aks_scopes]
    states = reader.read_clusters(scopes.clusters) if scopes.clusters else []
    for state in states:
        role = _cluster_role_check(state.cluster, object_id, inventory, az)
        if state.failure is None and state.found is None and role.status != "pass":
            role = _cluster_not_found(AKS_RBAC_READER.name, state.cluster, az, role.query)
        checks += [role, _azure_rbac_check(state, az)]
    if scopes == Scopes.of(plan):  # the whole plan's listings: what else Backline holds there
        checks += least_privilege_checks(inventory, reader, az, _planned_grants(plan))
        checks += entra_checks(reader.entra_holdings(object_id), object_id, cloud)
    return checks


def _planned_grants(plan: AccessPlan) -> set[tuple[str, str]]:
    return {(assignment.scope.rstrip("/").lower(), assignment.role.guid) for assignment in plan.assignments}


def _cluster_not_found(check: str, cluster: ClusterId, az: str, query: str | None) -> Check:
    """A cluster Azure does not have: no grant can fix that, a corrected name can."""
    return Check(
        check,
        cluster.resource_id,
        "fail",
        f"{NOT_FOUND}no cluster {cluster.name} in resource group {cluster.resource_group} (a typo, or a display "
        "name instead of the name?)",
        f"{az}{clusters_fix(cluster.subscription_id)} lists the subscription's clusters; correct the stack config",
        query,
    )


def _sign_in_check(plan: AccessPlan, cloud: Cloud, error: SignInError) -> Check:
    return Check(
        "sign-in",
        error.audience,
        "unknown",
        f"cannot sign in for {error.audience}: {error.message}",
        login_fix(plan.tenant_id, cloud),
    )


def plan_as_azure_has_it(access: AccessConfig, reader: ClusterAndGroupReads) -> AccessPlan:
    """The plan, with the clusters Azure has now where the config reaches them without naming them: `all: true`
    entries' (granted one by one) and those below the grants above clusters (checked for Azure RBAC). What
    cannot be read is left to the checks, which report it as unknown."""
    per_cluster = [s.subscription for s in access.all_cluster_selections() if s.subscription is not None]
    broad = broad_aks_grants(access)
    groups = [g.management_group for g in broad if g.management_group is not None]
    below = reader.subscriptions_below(groups).subscriptions if groups else {}
    wanted = [*per_cluster, *(g.subscription_id for g in broad if g.subscription_id is not None)]
    wanted += [s for group in groups for s in below.get(group, [])]
    if not wanted:
        return build_plan(access)
    inventory = reader.clusters_in(list(dict.fromkeys(wanted)))
    found = {s: [info.cluster for info in inventory.clusters.get(s, [])] for s in per_cluster}
    every = [info.cluster for listed in inventory.clusters.values() for info in listed]
    return build_plan(access, found, below or None, clusters_covered(broad, every, below))


def verify_until(
    plan: AccessPlan,
    reader: VerificationReads,
    cloud: Cloud,
    wait_seconds: float,
    principal_id: str | None = None,
    on_round: Callable[[list[Check], float], None] | None = None,
    first_pause: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Check]:
    """Check, then re-check what has not passed with backoff until it passes or `wait_seconds` run out.
    What still does not pass then is reported as it is (fail or unknown), never as pending."""
    deadline = clock() + wait_seconds
    checks = verify(plan, reader, cloud, principal_id)
    pause = first_pause
    while _retryable(checks) and clock() + pause <= deadline:
        if on_round:
            on_round(_while_waiting(checks), max(0.0, deadline - clock()))
        sleep(pause)
        pause = min(pause * 1.5, 60.0)
        again = verify(plan, reader, cloud, principal_id, scopes=_not_passing(checks))
        checks = _merged(checks, again)
    return checks


def verify_after_update(
    plan: AccessPlan, reader: VerificationReads, cloud: Cloud, principal_id: str, resource: pulumi.Resource
) -> dict[str, Any]:
    """The `verification` stack output: the checks once, right after the grants, without waiting. What has
    not propagated yet is pending, and `pulumi up` does not fail for it: the output says what to run."""
    stack = pulumi.get_stack()
    wait_command = f"backline-access verify --stack {stack}"
    try:
        checks = verify(plan, reader, cloud, principal_id=principal_id, just_granted=True)
    except Exception as error:  # noqa: BLE001 - a failed check must never fail the update that granted
        pulumi.log.warn(f"The post-deploy checks could not run: {error}. Run {wait_command}.", resource=resource)
        return {"error": str(error), "next": wait_command}
    counts = summary(checks)
    not_passing = [check.as_document() for check in checks if check.status != "pass"]
    # Graph is never read here (the provider's token is for Resource Manager); that alone is not worth a warning.
    if any(check.status != "pass" and check.evidence != NOT_READ_IN_PULUMI for check in checks):
        pulumi.log.warn(
            f"Post-deploy checks: {counts['pass']} pass, {counts['pending']} pending (propagation, up to 10 minutes), "
            f"{counts['fail']} fail, {counts['unknown']} unknown. Run {wait_command} to wait for Azure and see "
            "each fix.",
            resource=resource,
        )
    return {**counts, "notPassing": not_passing, "next": wait_command}


def summary(checks: Sequence[Check]) -> dict[str, int]:
    return {status: sum(1 for c in checks if c.status == status) for status in STATUSES}


def tenant_problem(checks: Sequence[Check]) -> bool:
    """The credentials cannot be used for this tenant at all (the CLI's exit code 3)."""
    return any(c.check in ("tenant", "sign-in") and c.status != "pass" for c in checks)


# --- the checks -----------------------------------------------------------------------------------


def _tenant_check(plan: AccessPlan, reader: VerificationReads, cloud: Cloud) -> Check:
    try:
        actual = reader.credentials_tenant()
    except Exception as error:  # noqa: BLE001 - any failure to sign in is the same problem for the user
        fix = login_fix(plan.tenant_id, cloud, az_missing=getattr(error, "az_missing", False))
        return Check("tenant", plan.tenant_id, "unknown", f"cannot sign in: {error}", fix)
    if actual is None:
        return Check("tenant", plan.tenant_id, "unknown", "the token names no tenant", login_fix(plan.tenant_id, cloud))
    if actual != plan.tenant_id:
        return Check(
            "tenant",
            plan.tenant_id,
            "fail",
            f"the credentials belong to tenant {actual}",
            login_fix(plan.tenant_id, cloud),
        )
    return Check("tenant", plan.tenant_id, "pass", f"the credentials belong to tenant {actual}")


def _principal_check(
    plan: AccessPlan, reader: VerificationReads, cloud: Cloud, principal_id: str | None
) -> tuple[Check, str | None]:
    """The check, and the principal's object id when it exists."""
    scope = f"app {BACKLINE_APP_ID}"
    if principal_id:
        return Check("service principal", scope, "pass", f"object id {principal_id}"), principal_id
    query = f"{cloud.az_prefix()}az ad sp show --id {BACKLINE_APP_ID} --query id -o tsv"
    try:
        found = reader.service_principal(BACKLINE_APP_ID)
    except AzureReadError as error:
        return Check(
            "service principal",
            scope,
            "unknown",
            f"Microsoft Graph: {error}",
            "the identity that verifies needs Application.Read.All (or Directory.Read.All) in Microsoft Graph",
            query,
        ), None
    if found is None:
        return Check(
            "service principal",
            scope,
            "fail",
            "Backline's service principal does not exist in the tenant (Backline sees 'unauthorized' or "
            "'consent required')",
            f"pulumi up with servicePrincipal.mode: ensure, or let an admin consent: "
            f"{cloud.admin_consent_url(plan.tenant_id, BACKLINE_APP_ID)}",
            query,
        ), None
    return Check("service principal", scope, "pass", f"object id {found}"), found


def _listed_at(scope: str) -> str:
    """The listing that shows an assignment at `scope`: its subscription's, or a management group's own."""
    if management_group_of(scope) is not None:
        return scope
    return subscription_scope(scope.split("/")[2])


def _broad_aks_check(scope: str, object_id: str, inventory: AssignmentInventory, az: str) -> Check:
    """AKS RBAC Reader at a subscription, resource group or management group: every cluster below inherits it."""
    query = f'{az}az role assignment list --assignee {object_id} --scope {scope} --query "[].roleDefinitionName" -o tsv'
    listed_at = _listed_at(scope)
    if listed_at in inventory.failures:
        failure = inventory.failures[listed_at]
        return _unreadable(AKS_RBAC_READER.name, scope, failure.describe(), query, failure.status, az)
    return _role_check(AKS_RBAC_READER, scope, inventory.assignments.get(listed_at, []), az, query)


def _reader_check(scope: str, object_id: str, inventory: AssignmentInventory, az: str) -> Check:
    """Reader at a subscription or a management group (each is its own listing scope)."""
    query = f'{az}az role assignment list --assignee {object_id} --scope {scope} --query "[].roleDefinitionName" -o tsv'
    if scope in inventory.failures:
        failure = inventory.failures[scope]
        return _unreadable("Reader", scope, failure.describe(), query, failure.status, az)
    return _role_check(READER, scope, inventory.assignments.get(scope, []), az, query)


def _cluster_role_check(cluster: ClusterId, object_id: str, inventory: AssignmentInventory, az: str) -> Check:
    scope = cluster.resource_id
    query = f'{az}az role assignment list --scope {scope} --assignee {object_id} --query "[].roleDefinitionName" -o tsv'
    listed_at = subscription_scope(cluster.subscription_id)
    if listed_at in inventory.failures:
        failure = inventory.failures[listed_at]
        return _unreadable(AKS_RBAC_READER.name, scope, failure.describe(), query, failure.status, az)
    return _role_check(AKS_RBAC_READER, scope, inventory.assignments.get(listed_at, []), az, query)


def _role_check(role: Role, scope: str, assignments: Sequence[RoleAssignmentInfo], az: str, query: str) -> Check:
    holding = [a for a in assignments if a.role_guid == role.guid and a.condition is None and _covers(a.scope, scope)]
    exact = [a for a in holding if a.scope.rstrip("/").lower() == scope.lower()]
    if exact:
        return Check(role.name, scope, "pass", f"assignment {exact[0].name} at this scope")
    if holding:
        return Check(role.name, scope, "pass", f"inherited from {holding[0].scope} (assignment {holding[0].name})")
    role_arg = f'"{role.name}"' if " " in role.name else role.name
    fix = f"{az}az role assignment create --assignee {BACKLINE_APP_ID} --role {role_arg} --scope {scope}"
    why = (
        "Backline's test connection fails with 'forbidden' (403)"
        if role is READER
        else ("Backline cannot read Kubernetes objects in the cluster")
    )
    return Check(role.name, scope, "fail", f"no {role.name} for Backline's service principal here: {why}", fix, query)


def _azure_rbac_check(state: ClusterState, az: str) -> Check:
    cluster = state.cluster
    check = "Azure RBAC for Kubernetes"
    query = (
        f"{az}az aks show --resource-group {cluster.resource_group} --name {cluster.name} "
        f'--subscription {cluster.subscription_id} --query "aadProfile.enableAzureRbac"'
    )
    if state.failure is not None:
        return _unreadable(check, cluster.resource_id, state.failure.describe(), query)
    if state.found is None:
        return _cluster_not_found(check, cluster, az, query)
    if not state.found.azure_rbac:
        return Check(
            check,
            cluster.resource_id,
            "fail",
            "aadProfile.enableAzureRBAC is not true: the AKS RBAC Reader assignment has no effect",
            az + rbac_fix(cluster),
            query,
        )
    return Check(check, cluster.resource_id, "pass", "aadProfile.enableAzureRBAC is true")


def _unreadable(check: str, scope: str, why: str, query: str, status: int = 0, az: str = "") -> Check:
    if status == 404:
        group = management_group_of(scope)
        listing = MANAGEMENT_GROUPS_FIX if group is not None else SUBSCRIPTIONS_FIX
        kind = f"management group {group}" if group is not None else f"subscription {scope.split('/')[2]}"
        return Check(
            check,
            scope,
            "fail",
            f"{NOT_FOUND}Azure has no {kind} (a typo, or a display name instead of the id?) ({why})",
            f"{az}{listing} lists them; correct the stack config",
            query,
        )
    return Check(
        check,
        scope,
        "unknown",
        f"the identity that verifies cannot read this ({why})",
        f"give the identity that verifies Reader on {scope}, or run the query as someone who can",
        query,
    )


def _covers(assignment_scope: str, scope: str) -> bool:
    """Whether an assignment at `assignment_scope` applies at `scope` (the same scope or one above it)."""
    above = assignment_scope.rstrip("/").lower()
    target = scope.rstrip("/").lower()
    if management_group_of(target) is not None:
        # A group's listing shows assignments below it too, and ids do not tell a parent group from a child:
        # only the group's own assignment (or the root's) counts.
        return above in (target, "")
    if above.startswith("/providers/microsoft.management/managementgroups/") or above == "":
        return True  # a management group or the root: listing a subscription returns only those above it
    return target == above or target.startswith(above + "/")


# --- rounds ----------------------------------------------------------------------------------------

_ROLE_CHECKS = (READER.name, AKS_RBAC_READER.name)
NOT_FOUND = "not found: "


def _pending_if_missing(check: Check) -> Check:
    if check.status == "fail" and check.check in _ROLE_CHECKS:
        return replace(check, status="pending", evidence=f"{check.evidence} (just granted: propagation)")
    return check


def _may_propagate(check: Check) -> bool:
    """A missing grant may still propagate; a scope Azure does not have will not appear by waiting."""
    return (
        check.status in ("fail", "pending") and check.check in _ROLE_CHECKS and not check.evidence.startswith(NOT_FOUND)
    )


def _retryable(checks: Sequence[Check]) -> bool:
    return any(_may_propagate(c) for c in checks)


def _while_waiting(checks: Sequence[Check]) -> list[Check]:
    """A round's results as the wait shows them: a grant that may still propagate is pending until the wait ends
    (then it is reported as it is)."""
    return [
        replace(c, status="pending", evidence=f"{c.evidence} (waiting: Azure may take up to 10 minutes)")
        if c.status == "fail" and _may_propagate(c)
        else c
        for c in checks
    ]


def _not_passing(checks: Sequence[Check]) -> Scopes:
    readers = [c.scope for c in checks if c.check == READER.name and c.status != "pass"]
    groups = tuple(group for group in map(management_group_of, readers) if group is not None)
    subscriptions = tuple(scope.split("/")[2] for scope in readers if management_group_of(scope) is None)
    open_aks = [c for c in checks if c.check in _AKS_CHECKS and c.status != "pass"]
    clusters = {_cluster_of(c.scope) for c in open_aks if parse_cluster_resource_id(c.scope) is not None}
    above = tuple(c.scope for c in open_aks if parse_cluster_resource_id(c.scope) is None)
    return Scopes(subscriptions, tuple(sorted(clusters)), groups, above)


_AKS_CHECKS = (AKS_RBAC_READER.name, "Azure RBAC for Kubernetes")


def _cluster_of(resource_id: str) -> ClusterId:
    parsed = parse_cluster_resource_id(resource_id)
    if parsed is None:
        raise ValueError(f"not a cluster: {resource_id}")
    return ClusterId.of(parsed.subscription, parsed.resource_group, parsed.name)


def _merged(before: Sequence[Check], again: Sequence[Check]) -> list[Check]:
    fresh = {(c.check, c.scope): c for c in again}
    known = {(c.check, c.scope) for c in before}
    return [fresh.get((c.check, c.scope), c) for c in before] + [c for c in again if (c.check, c.scope) not in known]
