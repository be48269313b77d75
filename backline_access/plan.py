"""The plan of what to grant: pure data derived from the validated config, nothing of Pulumi or HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import AccessConfig, config_warnings
from .identifiers import ClusterId, subscription_scope
from .roles import AKS_RBAC_READER, BACKLINE_APP_ID, READER, Role, assignment_name


@dataclass(frozen=True)
class PlannedAssignment:
    """One role assignment for Backline's service principal."""

    role: Role
    subscription_id: str
    scope: str
    cluster: ClusterId | None = None

    @property
    def name(self) -> str:
        return assignment_name(self.scope, self.role)

    @property
    def role_definition_id(self) -> str:
        return self.role.definition_id(self.subscription_id)

    @property
    def key(self) -> str:
        """Stable logical-name suffix built from ids, never from list positions."""
        if self.cluster is None:
            return f"{self.role.key}-{self.subscription_id}"
        c = self.cluster
        return f"{self.role.key}-{c.subscription_id}-{c.resource_group}-{c.name}"


@dataclass(frozen=True)
class AccessPlan:
    tenant_id: str
    reader_subscriptions: tuple[str, ...]
    clusters: tuple[ClusterId, ...]
    assignments: tuple[PlannedAssignment, ...]
    warnings: tuple[str, ...]
    app_id: str = BACKLINE_APP_ID

    # The subscription the azure-native provider starts in (it needs one; the grants do not use it).
    home_subscription: str = ""

    @property
    def provider_subscriptions(self) -> tuple[str, ...]:
        """Every subscription something is assigned in. The azure-native provider needs one to start (the grants
        do not use it: a role assignment's path is its scope)."""
        return tuple(sorted({a.subscription_id for a in self.assignments}))

    @property
    def subscription_ids_csv(self) -> str:
        """What the Backline UI asks for: the subscription ids, comma-separated."""
        return ",".join(self.reader_subscriptions)

    def verification_commands(self, principal_object_id: str) -> list[str]:
        """The product page's verification queries, filled in."""
        commands = [
            f"az role assignment list --scope {a.scope} --assignee {principal_object_id} "
            f'--query "[].roleDefinitionName" -o tsv'
            for a in self.assignments
        ]
        commands += [
            f"az aks show --subscription {c.subscription_id} --resource-group {c.resource_group} "
            f'--name {c.name} --query "aadProfile.enableAzureRbac"'
            for c in self.clusters
        ]
        return commands


def build_plan(config: AccessConfig, found: Mapping[str, Sequence[ClusterId]] | None = None) -> AccessPlan:
    """What to grant. `found`: the clusters Azure has in each subscription of an `all: true` entry (a
    subscription missing from it is unresolved: an offline plan grants none of its clusters)."""
    subscriptions = tuple(sorted(config.subscriptions))
    found = found or {}
    every = {
        cluster
        for selection in config.all_cluster_selections()
        for cluster in found.get(selection.subscription, [])
        if cluster not in selection.excluded_ids()
    }
    clusters = tuple(sorted(set(config.cluster_ids()) | every))
    readers = [
        PlannedAssignment(READER, subscription, subscription_scope(subscription)) for subscription in subscriptions
    ]
    aks_readers = [
        PlannedAssignment(AKS_RBAC_READER, cluster.subscription_id, cluster.resource_id, cluster)
        for cluster in clusters
    ]
    return AccessPlan(
        tenant_id=config.tenant_id,
        reader_subscriptions=subscriptions,
        clusters=clusters,
        assignments=tuple(readers + aks_readers),
        warnings=tuple(config_warnings(config)),
        home_subscription=min([*subscriptions, *(selection.subscription for selection in config.aks)]),
    )
