"""What `revoke` removes: Backline's role assignments wherever the caller can look.

The listings are those of the read side: for each scope, the principal's assignments at, above and below it
(`$filter=principalId eq '<id>'`, ARM's List For Scope). The scopes are the stack config's subscriptions and
management groups, and every subscription and management group the caller can list, so a grant made by hand
elsewhere (another subscription, a resource group, a cluster) is found too. Only GETs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..azure import AssignmentInventory, AzureFailure, AzureReadError, RoleAssignmentInfo, RoleDefinitionInfo
from ..config import BACKLINE_APP_ID, GRANTED_ROLE_NAMES, AccessConfig, management_group_scope
from ..plan import build_plan

# Where the listings of scopes themselves failed: not a scope of Azure's, a name for the report.
SUBSCRIPTION_LIST = "the list of subscriptions"
GROUP_LIST = "the list of management groups"


class RevocationReads(Protocol):
    def service_principal(self, app_id: str) -> str | None: ...
    def subscriptions(self) -> list[str]: ...
    def management_groups(self) -> list[str]: ...
    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory: ...
    def role_definition(self, role_definition_id: str) -> RoleDefinitionInfo: ...


@dataclass(frozen=True)
class FoundAssignment:
    assignment: RoleAssignmentInfo
    role: str  # the role's name, or "role <guid>" where its definition could not be read
    in_stack_config: bool  # the stack config asks for this role at this scope


@dataclass
class Revocation:
    tenant_id: str
    principal_id: str | None  # None: Backline's app has no service principal in the tenant
    assignments: list[FoundAssignment] = field(default_factory=list)
    not_read: dict[str, AzureFailure] = field(default_factory=dict)  # where an assignment may hide
    scopes_read: int = 0

    @property
    def complete(self) -> bool:
        return not self.not_read


def find_revocation(access: AccessConfig, reads: RevocationReads) -> Revocation:
    """Every role assignment of Backline's principal the caller can see. Raises AzureReadError when the principal
    itself cannot be looked up (Microsoft Graph refused): without its object id nothing can be listed."""
    principal = access.service_principal.object_id or reads.service_principal(BACKLINE_APP_ID)
    revocation = Revocation(access.tenant_id, principal)
    if principal is None:
        return revocation
    scopes = _scopes_to_list(access, reads, revocation.not_read)
    inventory = reads.role_assignments(principal, scopes)
    revocation.not_read.update(inventory.failures)
    revocation.scopes_read = len(inventory.assignments)
    # Each once, by scope; Backline's only, even from a listing that returned others.
    held = sorted(
        (a for a in inventory.distinct() if a.principal_id.lower() == principal.lower()),
        key=lambda a: (a.scope.lower(), a.role_guid, a.name),
    )
    asked = {(g.scope.rstrip("/").lower(), g.role.guid) for g in build_plan(access).assignments}
    names = _role_names(held, reads)
    revocation.assignments = [
        FoundAssignment(a, names[a.role_guid], (a.scope.rstrip("/").lower(), a.role_guid) in asked) for a in held
    ]
    return revocation


def _scopes_to_list(access: AccessConfig, reads: RevocationReads, not_read: dict[str, AzureFailure]) -> list[str]:
    """The config's scopes first, then every subscription and management group the caller can list."""
    subscriptions = [*access.subscriptions, *access.aks_subscriptions()]
    groups = list(access.management_groups)
    try:
        subscriptions += reads.subscriptions()
    except AzureReadError as error:
        not_read[SUBSCRIPTION_LIST] = error.failure
    try:
        groups += reads.management_groups()
    except AzureReadError as error:
        not_read[GROUP_LIST] = error.failure
    scopes = [f"/subscriptions/{s.lower()}" for s in subscriptions] + [management_group_scope(g) for g in groups]
    return list(dict.fromkeys(scopes))


def _role_names(assignments: list[RoleAssignmentInfo], reads: RevocationReads) -> dict[str, str]:
    """The two roles this project grants by name; any other by its definition (one GET per distinct role)."""
    names = dict(GRANTED_ROLE_NAMES)
    for assignment in assignments:
        if assignment.role_guid in names:
            continue
        try:
            names[assignment.role_guid] = reads.role_definition(assignment.role_definition_id).role_name
        except AzureReadError:
            names[assignment.role_guid] = f"role {assignment.role_guid}"
    return names
