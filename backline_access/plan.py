"""The plan of what to grant: pure data derived from the validated config, nothing of Pulumi or HTTP."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .config import (
    AKS_RBAC_READER,
    BACKLINE_APP_ID,
    READER,
    AccessConfig,
    ClusterId,
    Role,
    assignment_name,
    config_warnings,
    management_group_of,
    management_group_scope,
    subscription_scope,
)


@dataclass(frozen=True)
class PlannedAssignment:
    """One role assignment for Backline's service principal."""

    role: Role
    subscription_id: str | None  # None: the assignment is at a management group
    scope: str
    cluster: ClusterId | None = None
    management_group: str | None = None
    resource_group: str | None = None  # an AKS RBAC Reader at a resource group

    @property
    def name(self) -> str:
        return assignment_name(self.scope, self.role)

    @property
    def role_definition_id(self) -> str:
        return self.role.definition_id(self.subscription_id)

    @property
    def key(self) -> str:
        """Stable logical-name suffix built from ids, never from list positions."""
        if self.management_group is not None:
            return f"{self.role.key}-mg-{self.management_group.lower()}"
        if self.resource_group is not None:
            return f"{self.role.key}-rg-{self.subscription_id}-{self.resource_group.lower()}"
        if self.cluster is None:
            return f"{self.role.key}-{self.subscription_id}"
        c = self.cluster
        return f"{self.role.key}-{c.subscription_id}-{c.resource_group}-{c.name}"

    @property
    def broad(self) -> bool:
        """AKS RBAC Reader above the clusters: inherited by every cluster below its scope, present and future."""
        return self.role == AKS_RBAC_READER and self.cluster is None

    @property
    def reach(self) -> str:
        """What a reviewer must read this grant as ("" for a grant on one cluster or Reader)."""
        return reach_of(self.scope) if self.broad else ""

    def covers(self, cluster: ClusterId, below: Mapping[str, Sequence[str]] | None = None) -> bool:
        """Whether this AKS grant reaches `cluster` (a management group's: by the subscriptions below it)."""
        if self.cluster is not None:
            return self.cluster == cluster
        if self.management_group is not None:
            found = (below or {}).get(self.management_group, ())
            return cluster.subscription_id.lower() in {subscription.lower() for subscription in found}
        target = cluster.resource_id.lower()
        return target.startswith(self.scope.lower() + "/")

    @property
    def listed_at(self) -> str:
        """The scope whose role assignment listing shows this assignment: its subscription, or its group."""
        if self.subscription_id is None:
            return self.scope
        return subscription_scope(self.subscription_id)


@dataclass(frozen=True)
class AccessPlan:
    tenant_id: str
    reader_subscriptions: tuple[str, ...]
    clusters: tuple[ClusterId, ...]
    assignments: tuple[PlannedAssignment, ...]
    warnings: tuple[str, ...]
    app_id: str = BACKLINE_APP_ID
    management_groups: tuple[str, ...] = ()
    # The subscriptions below each management group, as Azure has them now; None when not read (offline).
    subscriptions_below: Mapping[str, tuple[str, ...]] | None = None

    # The subscription the azure-native provider starts in (the grants do not use it; empty with only groups).
    home_subscription: str = ""
    # The subscriptions below each management group of an `aks` entry, as Azure has them now; None when not read.
    aks_groups_below: Mapping[str, tuple[str, ...]] | None = None
    # The clusters Azure has now below the grants above clusters (read at deploy and by verify; none offline).
    covered_clusters: tuple[ClusterId, ...] = ()

    @property
    def broad_grants(self) -> tuple[PlannedAssignment, ...]:
        return tuple(a for a in self.assignments if a.broad)

    @property
    def listing_scopes(self) -> tuple[str, ...]:
        """Where to list role assignments to see every planned one: each subscription something is assigned in,
        and each management group (calls grow with subscriptions and groups, never with clusters)."""
        return tuple(sorted({a.listed_at for a in self.assignments}))

    @property
    def covered_subscriptions(self) -> tuple[str, ...]:
        """Every subscription with Reader: listed, or below a listed management group (as far as is known)."""
        return tuple(sorted(set(self.reader_subscriptions) | _all_below(self.subscriptions_below or {})))

    @property
    def subscription_ids_csv(self) -> str:
        """What the Backline UI asks for: the subscription ids, comma-separated."""
        return ",".join(self.covered_subscriptions)

    def verification_commands(self, principal_object_id: str) -> list[str]:
        """The product page's verification queries, filled in."""
        commands = [
            f"az role assignment list --scope {a.scope} --assignee {principal_object_id} "
            f'--query "[].roleDefinitionName" -o tsv'
            for a in self.assignments
        ]
        # A cluster below a grant above clusters: the grant it inherits (--include-inherited shows it there).
        commands += [
            f"az role assignment list --scope {c.resource_id} --assignee {principal_object_id} --include-inherited "
            f'--query "[].roleDefinitionName" -o tsv'
            for c in self.covered_clusters
        ]
        commands += [
            f"az aks show --subscription {c.subscription_id} --resource-group {c.resource_group} "
            f'--name {c.name} --query "aadProfile.enableAzureRbac"'
            for c in (*self.clusters, *self.covered_clusters)
        ]
        return commands


def reach_of(scope: str) -> str:
    """What AKS RBAC Reader at `scope` (above clusters) reaches: 'every AKS cluster in subscription X, present and
    future'. Azure RBAC inherits: an assignment applies at every scope below its own."""
    group = management_group_of(scope)
    parts = scope.rstrip("/").split("/")
    if group is not None:
        where = f"of every subscription below management group {group}"
    elif len(parts) == 5 and parts[3].lower() == "resourcegroups":
        where = f"in resource group {parts[4]} of subscription {parts[2]}"
    else:
        where = f"in subscription {parts[2]}"
    return f"every AKS cluster {where}, present and future"


def build_plan(
    config: AccessConfig,
    found: Mapping[str, Sequence[ClusterId]] | None = None,
    below: Mapping[str, Sequence[str]] | None = None,
    covered: Sequence[ClusterId] = (),
) -> AccessPlan:
    """What to grant. `found`: the clusters Azure has in each subscription of an `all: true` entry (a
    subscription missing from it is unresolved: an offline plan grants none of its clusters). `below`: the
    subscriptions below each management group (None: not read). `covered`: the clusters Azure has now below the
    grants above clusters (their Azure RBAC is checked; they get no grant of their own)."""
    subscriptions = tuple(sorted(config.subscriptions))
    found = found or {}
    every = {
        cluster
        for selection in config.all_cluster_selections()
        if selection.subscription is not None
        for cluster in found.get(selection.subscription, [])
        if cluster not in selection.excluded_ids()
    }
    clusters = tuple(sorted(set(config.cluster_ids()) | every))
    groups = tuple(config.management_groups)
    readers = [
        PlannedAssignment(READER, subscription, subscription_scope(subscription)) for subscription in subscriptions
    ]
    group_readers = [
        PlannedAssignment(READER, None, management_group_scope(group), management_group=group) for group in groups
    ]
    aks_readers = [
        PlannedAssignment(AKS_RBAC_READER, cluster.subscription_id, cluster.resource_id, cluster)
        for cluster in clusters
    ]
    broad = broad_aks_grants(config)
    aks_groups = [s.management_group for s in config.broad_aks_selections() if s.management_group is not None]
    subscriptions_below = _read_below(groups, below)
    aks_groups_below = _read_below(aks_groups, below)
    with_reader_below = None if subscriptions_below is None else _all_below(subscriptions_below)
    return AccessPlan(
        tenant_id=config.tenant_id,
        reader_subscriptions=subscriptions,
        clusters=clusters,
        assignments=tuple(readers + group_readers + aks_readers + broad),
        warnings=tuple(
            config_warnings(config, with_reader_below) + _redundant_readers(config, subscriptions_below or {})
        ),
        management_groups=groups,
        subscriptions_below=subscriptions_below,
        home_subscription=min([*subscriptions, *config.aks_subscriptions()], default=""),
        aks_groups_below=aks_groups_below,
        covered_clusters=tuple(sorted(set(covered) - set(clusters))),
    )


def clusters_covered(
    grants: Sequence[PlannedAssignment], clusters: Iterable[ClusterId], below: Mapping[str, Sequence[str]] | None
) -> list[ClusterId]:
    """The clusters that a grant above clusters reaches."""
    return [cluster for cluster in clusters if any(grant.covers(cluster, below) for grant in grants)]


def broad_aks_grants(config: AccessConfig) -> list[PlannedAssignment]:
    """AKS RBAC Reader above the clusters, as the config asks: at a subscription (`grantAt: subscription`), per
    resource group (`resourceGroups`) or at a management group (`managementGroup`)."""
    grants: list[PlannedAssignment] = []
    for selection in config.broad_aks_selections():
        subscription = selection.subscription
        if selection.management_group is not None:
            group = selection.management_group
            grants.append(
                PlannedAssignment(AKS_RBAC_READER, None, management_group_scope(group), management_group=group)
            )
        elif subscription is not None and selection.resource_groups:
            grants += [
                PlannedAssignment(
                    AKS_RBAC_READER,
                    subscription,
                    f"{subscription_scope(subscription)}/resourceGroups/{group}",
                    resource_group=group,
                )
                for group in selection.resource_groups
            ]
        elif subscription is not None:
            grants.append(PlannedAssignment(AKS_RBAC_READER, subscription, subscription_scope(subscription)))
    return grants


def _read_below(groups: Sequence[str], below: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]] | None:
    """The subscriptions below each of `groups`, or None when any of them was not read."""
    if below is None or any(group not in below for group in groups):
        return None
    return {group: tuple(sorted(below[group])) for group in groups}


def _all_below(below: Mapping[str, Sequence[str]]) -> set[str]:
    return {subscription for found in below.values() for subscription in found}


def _redundant_readers(config: AccessConfig, below: Mapping[str, tuple[str, ...]]) -> list[str]:
    """A listed subscription that a listed group covers: its own Reader is harmless but redundant."""
    warnings = []
    for index, subscription in enumerate(config.subscriptions):
        covering = [group for group, found in below.items() if subscription in found]
        if covering:
            warnings.append(
                f"subscriptions[{index}]: {subscription} is below management group {covering[0]}, whose Reader "
                "already covers it: its own Reader assignment is redundant (granted anyway, as listed; remove it "
                "from backline-access:subscriptions to rely on the group alone)."
            )
    return warnings
