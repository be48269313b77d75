"""Reading a customer's estate over HTTP: clusters, role assignments, subscriptions, management groups.

Every read costs a number of calls that grows with subscriptions at most, never with clusters: Resource Graph
answers all subscriptions' clusters in one paged query, and a per-subscription ARM list fills in what Resource
Graph has not indexed yet (it lags ARM by a minute or so) or cannot see.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..config import ClusterId, management_group_scope, parse_cluster_resource_id
from . import directory
from .errors import AzureFailure, AzureReadError
from .identity import token_claim, token_subject
from .model import (
    AssignmentInventory,
    ClusterInfo,
    ClusterInventory,
    ClusterState,
    EntraHoldings,
    GroupInventory,
    RoleAssignmentInfo,
    RoleDefinitionInfo,
    ServicePrincipalRecord,
)
from .transport import MAX_PAGES, AzureHttp

_log = logging.getLogger(__name__)

ROLE_ASSIGNMENTS_API = "2022-04-01"
# GA and served by every cloud: sovereign clouds publish AKS api-versions months late (Azure/azure-cli#12894,
# #13047, #21492, #23985), so not the newest. The spec at stable/2024-05-01 has aadProfile.enableAzureRBAC
# (ManagedClustersCreate_UpdateWithEnableAzureRBAC.json), the one property read besides id and name.
CLUSTERS_API = "2024-05-01"
SUBSCRIPTIONS_API = "2022-12-01"
MANAGEMENT_GROUPS_API = "2023-04-01"
RESOURCE_GRAPH_API = "2024-04-01"
RESOURCE_GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
# Resource Graph takes at most 1,000 subscriptions per request and answers at most 1,000 rows per page.
RESOURCE_GRAPH_SUBSCRIPTIONS = 1000
RESOURCE_GRAPH_PAGE = 1000
# A failing Resource Graph has a fallback (ARM lists), so server errors are retried briefly; 429s as usual.
RESOURCE_GRAPH_SERVER_ERROR_ATTEMPTS = 3
CLUSTERS_QUERY = (
    "resources | where type =~ 'microsoft.containerservice/managedclusters' "
    "| project id, subscriptionId, resourceGroup, name, azureRbac = properties.aadProfile.enableAzureRBAC"
)


class EstateReader:
    """The read side over HTTP. `arm` speaks to Resource Manager; `graph`, when given, to Microsoft Graph."""

    def __init__(self, arm: AzureHttp, graph: AzureHttp | None = None, token: str | None = None) -> None:
        self.arm = arm
        self.graph = graph
        self._token = token
        self._principals: dict[str, ServicePrincipalRecord] = {}  # read by the lookup, by object id

    @contextmanager
    def deadline(self, seconds: float | None, label: str) -> Iterator[None]:
        """Bound every request made inside the block, retries and Retry-After waits included: a read that would
        end later fails as DeadlineExceeded (so its check is unknown, never pass). `label` names the limit in that
        message, e.g. "300 s the preflight may take"."""
        self.set_deadline(seconds, label)
        try:
            yield
        finally:
            self.set_deadline(None, "")

    def set_deadline(self, seconds: float | None, label: str) -> None:
        for endpoint in (self.arm, *([self.graph] if self.graph else [])):
            endpoint.deadline.set(seconds, label)

    @property
    def calls(self) -> int:
        return self.arm.counter.count + (self.graph.counter.count if self.graph else 0)

    # --- identity ---------------------------------------------------------------------------------

    def credentials_tenant(self) -> str | None:
        """The tenant of the credentials (the token's `tid` claim), or None when it cannot be told."""
        return token_claim(self._token or self.arm.access_token(), "tid")

    def verifier(self) -> str:
        """Who the credentials are (from the token's claims), for an attestation."""
        return token_subject(self._token or self.arm.access_token())

    def service_principal(self, app_id: str) -> str | None:
        """The object id of the app's service principal in the tenant, or None when there is none. The lookup reads
        its credentials too, for `entra_holdings` (one Graph call for both)."""
        found = directory.find_by_app(self._graph(), app_id)
        if found is None:
            return None
        self._principals[found.object_id] = found
        return found.object_id

    def entra_holdings(self, object_id: str) -> EntraHoldings | None:
        """What Entra ID holds for the principal (credentials, permissions, owners); None without a Graph endpoint
        (inside `pulumi up`, whose provider token is for Resource Manager only)."""
        if self.graph is None:
            return None
        principal: ServicePrincipalRecord | AzureFailure
        try:
            principal = self._principals.get(object_id) or directory.read_by_id(self.graph, object_id)
        except AzureReadError as error:
            principal = error.failure
        return directory.read_holdings(self.graph, principal, object_id)

    def _graph(self) -> AzureHttp:
        if self.graph is None:
            raise ValueError("no Microsoft Graph endpoint configured")
        return self.graph

    # --- subscriptions and management groups ---------------------------------------------------

    def subscriptions(self) -> list[str]:
        """The subscriptions the credentials can see."""
        return sorted(
            str(item["subscriptionId"]).lower()
            for item in self.arm.pages("/subscriptions", {"api-version": SUBSCRIPTIONS_API})
        )

    def management_groups(self) -> list[str]:
        """The ids of the management groups the credentials can read."""
        pages = self.arm.pages(
            "/providers/Microsoft.Management/managementGroups", {"api-version": MANAGEMENT_GROUPS_API}
        )
        return sorted(str(item["name"]) for item in pages)

    def management_group_subscriptions(self, group: str) -> list[str]:
        """Every subscription below a management group, at any depth."""
        scope = management_group_scope(group)
        pages = self.arm.pages(f"{scope}/descendants", {"api-version": MANAGEMENT_GROUPS_API}, scope)
        return descendant_subscriptions(pages)

    def subscriptions_below(self, groups: Iterable[str]) -> GroupInventory:
        """Every subscription below each group (one paged listing per group, concurrently)."""
        inventory = GroupInventory()

        def read(group: str) -> tuple[str, list[str] | AzureFailure]:
            try:
                return group, self.management_group_subscriptions(group)
            except AzureReadError as error:
                return group, error.failure

        for group, result in self.arm.map(read, list(dict.fromkeys(groups))):
            if isinstance(result, AzureFailure):
                inventory.failures[group] = result
            else:
                inventory.subscriptions[group] = result
        return inventory

    # --- role assignments ---------------------------------------------------------------------

    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory:
        """A principal's role assignments at, above and below each scope (`/subscriptions/<id>` or a management
        group's): one paged listing per scope."""
        inventory = AssignmentInventory()

        def read(scope: str) -> tuple[str, list[RoleAssignmentInfo] | AzureFailure]:
            params = {"api-version": ROLE_ASSIGNMENTS_API, "$filter": f"principalId eq '{principal_id}'"}
            try:
                items = self.arm.pages(f"{scope}/providers/Microsoft.Authorization/roleAssignments", params, scope)
                return scope, [assignment_info(item) for item in items]
            except AzureReadError as error:
                return scope, error.failure

        for scope, result in self.arm.map(read, sorted(set(scopes))):
            if isinstance(result, AzureFailure):
                inventory.failures[scope] = result
            else:
                inventory.assignments[scope] = result
        return inventory

    # --- clusters -------------------------------------------------------------------------------

    def role_definition(self, role_definition_id: str) -> RoleDefinitionInfo:
        """GET the role definition an assignment names (its roleDefinitionId is the definition's path)."""
        found = self.arm.get(role_definition_id, {"api-version": ROLE_ASSIGNMENTS_API})
        return role_definition_info(found)

    def cluster(self, cluster: ClusterId) -> ClusterInfo:
        """One named cluster (raises AzureReadError when it cannot be read)."""
        found = self.arm.get(cluster.resource_id, {"api-version": CLUSTERS_API})
        return cluster_info(found)

    def clusters_in(self, subscriptions: Iterable[str]) -> ClusterInventory:
        """Every cluster of each subscription (`all: true`): Resource Graph's answer merged with each
        subscription's ARM list. Resource Graph lags ARM (a new cluster is missing for a minute or more) and leaves
        out what the caller may not read, so ARM's list is always read and wins; a cluster only Resource Graph shows
        (one it still has after a deletion) is confirmed with one ARM GET. Calls: one query, one list per
        subscription, and a GET per cluster Resource Graph alone still shows."""
        wanted = sorted(set(subscriptions))
        indexed = self._indexed_clusters(wanted)
        listed = self._arm_clusters(wanted)
        inventory = ClusterInventory(failures=dict(listed.failures))
        unconfirmed: list[ClusterId] = []
        for subscription, infos in listed.clusters.items():
            inventory.clusters[subscription] = list(infos)
            seen = {info.cluster for info in infos}
            unconfirmed += [c for c in indexed.get(subscription, []) if c not in seen]
        for state in self._confirmed(unconfirmed):
            if state.failure is not None:
                inventory.clusters.pop(state.cluster.subscription_id, None)
                inventory.failures[state.cluster.subscription_id] = state.failure
            elif state.found is not None and state.cluster.subscription_id in inventory.clusters:
                inventory.clusters[state.cluster.subscription_id].append(state.found)
        for infos in inventory.clusters.values():
            infos.sort(key=lambda info: info.cluster.resource_id)
        return inventory

    def _indexed_clusters(self, wanted: list[str]) -> dict[str, list[ClusterId]]:
        """Resource Graph's clusters per subscription; none when it cannot answer (ARM's lists still do)."""
        found: dict[str, list[ClusterId]] = {}
        try:
            for info in self._graph_clusters(wanted):
                found.setdefault(info.cluster.subscription_id, []).append(info.cluster)
        except AzureReadError as error:
            _log.debug("Resource Graph did not answer (%s); the clusters come from ARM's lists", error)
        return found

    def _confirmed(self, clusters: list[ClusterId]) -> list[ClusterState]:
        def read(cluster: ClusterId) -> ClusterState:
            try:
                return ClusterState(cluster, found=self.cluster(cluster))
            except AzureReadError as error:
                if error.failure.not_found:
                    return ClusterState(cluster)  # gone: Resource Graph has not caught up with the deletion
                return ClusterState(cluster, failure=error.failure)

        return list(self.arm.map(read, clusters))

    def read_clusters(self, clusters: Sequence[ClusterId]) -> list[ClusterState]:
        """Every selected cluster: one Resource Graph query for all, then an ARM list for each subscription
        where a selected cluster is not (yet) in Resource Graph."""
        subscriptions = sorted({c.subscription_id for c in clusters})
        inventory, from_arm = self._inventory(subscriptions)
        found = self._index(inventory)
        if from_arm:
            listed = inventory
        else:
            listed = self._arm_clusters(sorted({c.subscription_id for c in clusters if c not in found}))
            found.update(self._index(listed))
        return [
            ClusterState(c, found=found.get(c), failure=None if c in found else listed.failures.get(c.subscription_id))
            for c in clusters
        ]

    def _inventory(self, wanted: list[str]) -> tuple[ClusterInventory, bool]:
        """Resource Graph's clusters of these subscriptions, or (it failed) each subscription's ARM list; and
        whether it came from ARM."""
        inventory = ClusterInventory({subscription: [] for subscription in wanted})
        try:
            for info in self._graph_clusters(wanted):
                inventory.clusters.setdefault(info.cluster.subscription_id, []).append(info)
        except AzureReadError as error:
            # Resource Graph unavailable (or not allowed): list each subscription in ARM instead.
            _log.debug("Resource Graph did not answer (%s); each subscription is listed in ARM instead", error)
            return self._arm_clusters(wanted), True
        return inventory, False

    def _graph_clusters(self, subscriptions: list[str]) -> Iterable[ClusterInfo]:
        for start in range(0, len(subscriptions), RESOURCE_GRAPH_SUBSCRIPTIONS):
            chunk = subscriptions[start : start + RESOURCE_GRAPH_SUBSCRIPTIONS]
            options: dict[str, Any] = {"$top": RESOURCE_GRAPH_PAGE, "resultFormat": "objectArray"}
            seen: set[str] = set()
            while True:
                body = {"subscriptions": chunk, "query": CLUSTERS_QUERY, "options": options}
                page = self.arm.post(
                    RESOURCE_GRAPH_PATH,
                    {"api-version": RESOURCE_GRAPH_API},
                    body,
                    server_error_attempts=RESOURCE_GRAPH_SERVER_ERROR_ATTEMPTS,
                )
                if str(page.get("resultTruncated", "false")).lower() == "true":
                    raise AzureReadError(
                        AzureFailure(
                            RESOURCE_GRAPH_PATH,
                            200,
                            "ResultTruncated",
                            "Resource Graph answered part of the clusters (resultTruncated: true)",
                        )
                    )
                for row in page.get("data", []):
                    info = cluster_row(row)
                    if info is not None:
                        yield info
                token = page.get("$skipToken")
                if not token:
                    break
                if token in seen or len(seen) >= MAX_PAGES:
                    raise AzureReadError(
                        AzureFailure(RESOURCE_GRAPH_PATH, 200, "PagingDidNotEnd", "Resource Graph's paging did not end")
                    )
                seen.add(token)
                options = {**options, "$skipToken": token}

    def _arm_clusters(self, subscriptions: list[str]) -> ClusterInventory:
        inventory = ClusterInventory()

        def read(subscription: str) -> tuple[str, list[ClusterInfo] | AzureFailure]:
            scope = f"/subscriptions/{subscription}"
            path = f"{scope}/providers/Microsoft.ContainerService/managedClusters"
            try:
                items = self.arm.pages(path, {"api-version": CLUSTERS_API}, scope)
                return subscription, [cluster_info(item) for item in items]
            except AzureReadError as error:
                return subscription, error.failure

        for subscription, result in self.arm.map(read, subscriptions):
            if isinstance(result, AzureFailure):
                inventory.failures[subscription] = result
            else:
                inventory.clusters[subscription] = result
        return inventory

    @staticmethod
    def _index(inventory: ClusterInventory) -> dict[ClusterId, ClusterInfo]:
        return {info.cluster: info for infos in inventory.clusters.values() for info in infos}


def descendant_subscriptions(items: Iterable[dict[str, Any]]) -> list[str]:
    """The subscriptions among a management group's descendants (the rest are child groups)."""
    return sorted(
        str(item["name"]).lower()
        for item in items
        if str(item.get("type", "")).lower() == "microsoft.management/managementgroups/subscriptions"
    )


def _cluster_id(resource_id: str) -> ClusterId | None:
    parsed = parse_cluster_resource_id(resource_id)
    return ClusterId.of(parsed.subscription, parsed.resource_group, parsed.name) if parsed else None


def role_definition_info(item: dict[str, Any]) -> RoleDefinitionInfo:
    properties = item.get("properties") or {}
    blocks = properties.get("permissions") or []

    def union(key: str) -> tuple[str, ...]:
        return tuple(str(entry) for block in blocks for entry in (block.get(key) or []))

    return RoleDefinitionInfo(
        str(item.get("name", "")).lower(),
        str(properties.get("roleName", "")),
        union("actions"),
        union("notActions"),
        union("dataActions"),
        union("notDataActions"),
    )


def cluster_row(row: dict[str, Any]) -> ClusterInfo | None:
    cluster = _cluster_id(str(row.get("id", "")))
    return ClusterInfo(cluster, row.get("azureRbac") is True) if cluster else None


def cluster_info(item: dict[str, Any]) -> ClusterInfo:
    cluster = _cluster_id(str(item.get("id", "")))
    if cluster is None:
        raise AzureReadError(AzureFailure(str(item.get("id")), 0, "UnexpectedResponse", "not a cluster id"))
    profile = (item.get("properties") or {}).get("aadProfile") or {}
    return ClusterInfo(cluster, profile.get("enableAzureRBAC") is True)


def assignment_info(item: dict[str, Any]) -> RoleAssignmentInfo:
    properties = item.get("properties") or {}
    return RoleAssignmentInfo(
        id=str(item["id"]),
        name=str(item["name"]),
        scope=str(properties.get("scope", "")),
        role_definition_id=str(properties.get("roleDefinitionId", "")),
        principal_id=str(properties.get("principalId", "")).lower(),
        principal_type=str(properties.get("principalType", "")),
        condition=properties.get("condition"),
        description=properties.get("description"),
        condition_version=properties.get("conditionVersion"),
    )
