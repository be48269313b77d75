"""What the read side answers, as plain data, and the one question the program asks of it before granting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..config import ClusterId
from .errors import AzureFailure


@dataclass(frozen=True)
class ClusterInfo:
    cluster: ClusterId
    azure_rbac: bool  # aadProfile.enableAzureRBAC; absent means off


@dataclass(frozen=True)
class ClusterState:
    """What the preflight learnt of one selected cluster."""

    cluster: ClusterId
    found: ClusterInfo | None = None
    failure: AzureFailure | None = None  # the subscription's listing failed (403, 404 SubscriptionNotFound, ...)
    unchecked: str | None = None  # nothing could be read, and why

    @property
    def missing(self) -> bool:
        return self.found is None and self.failure is None and self.unchecked is None


@dataclass(frozen=True)
class RoleAssignmentInfo:
    id: str
    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str
    condition: str | None = None
    description: str | None = None
    condition_version: str | None = None

    @property
    def role_guid(self) -> str:
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class RoleDefinitionInfo:
    """A role's name and what it allows (the union of its permission blocks)."""

    guid: str
    role_name: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrincipalCredential:
    """A password or certificate on a service principal, as Graph lists it: metadata only (Graph never returns a
    secret's value after it was made)."""

    kind: str  # "password" or "certificate"
    key_id: str
    display_name: str
    start: str
    end: str


@dataclass(frozen=True)
class ServicePrincipalRecord:
    """A service principal as verify reads it: its object id, app id and the credentials on it in this tenant."""

    object_id: str
    app_id: str
    credentials: tuple[PrincipalCredential, ...] = ()


@dataclass(frozen=True)
class GrantedPermission:
    """What Entra ID lets a principal do in an API: an application permission (an app role assignment) or a
    delegated one (an oauth2PermissionGrant scope). `name` is None when the API's app role could not be named."""

    kind: str  # "application" or "delegated"
    api: str  # the resource API's display name
    name: str | None
    grant_id: str  # the appRoleAssignment's or the oauth2PermissionGrant's id
    consent: str | None = None  # delegated: AllPrincipals (admin consent) or Principal


@dataclass(frozen=True)
class DirectoryOwner:
    id: str
    name: str
    kind: str  # the @odata.type without its prefix: user, servicePrincipal, ...


@dataclass
class EntraHoldings:
    """What Entra ID holds for a service principal; each part is a list, or the failure that kept it unread."""

    credentials: tuple[PrincipalCredential, ...] | AzureFailure
    permissions: list[GrantedPermission] | AzureFailure
    owners: list[DirectoryOwner] | AzureFailure


@dataclass
class ClusterInventory:
    """The clusters of some subscriptions, and the subscriptions whose clusters could not be listed. A
    subscription missing from both was not looked at (an offline plan)."""

    clusters: dict[str, list[ClusterInfo]] = field(default_factory=dict)
    failures: dict[str, AzureFailure] = field(default_factory=dict)


@dataclass
class AssignmentInventory:
    """A principal's role assignments per listing scope (`/subscriptions/<id>` or a management group's scope),
    and the scopes whose listing failed."""

    assignments: dict[str, list[RoleAssignmentInfo]] = field(default_factory=dict)
    failures: dict[str, AzureFailure] = field(default_factory=dict)

    def distinct(self) -> list[RoleAssignmentInfo]:
        """Each assignment once, by id (listings at a subscription and at a group above it both return the
        group's)."""
        seen: dict[str, RoleAssignmentInfo] = {}
        for listed in self.assignments.values():
            for assignment in listed:
                seen.setdefault(assignment.id.lower(), assignment)
        return sorted(seen.values(), key=lambda a: a.id.lower())


@dataclass
class GroupInventory:
    """The subscriptions below each management group, and the groups that could not be read."""

    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, AzureFailure] = field(default_factory=dict)


@runtime_checkable
class ClusterReads(Protocol):
    """The read the AKS preflight needs: every selected cluster, in calls that grow with subscriptions."""

    def read_clusters(self, clusters: Sequence[ClusterId]) -> list[ClusterState]: ...

    def clusters_in(self, subscriptions: Iterable[str]) -> ClusterInventory: ...


@runtime_checkable
class AssignmentReads(Protocol):
    """The read adoption needs: a principal's role assignments, one listing per subscription or group."""

    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory: ...


@runtime_checkable
class GroupReads(Protocol):
    """The read `managementGroups` needs: every subscription below each group, one paged listing per group."""

    def subscriptions_below(self, groups: Iterable[str]) -> GroupInventory: ...
