"""Access that already exists: which planned grants an existing role assignment already gives (the bash
script's, a person's, or this stack's own after its state was lost), and which of Backline's assignments the
plan does not ask for. Pure data: the read side finds the assignments, the component declares them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..azure import RoleAssignmentInfo
from ..config import AKS_RBAC_READER, READER, assignment_name
from ..plan import AccessPlan, PlannedAssignment

_OUR_ROLES = {READER.guid: READER, AKS_RBAC_READER.guid: AKS_RBAC_READER}


def _same_scope(a: str, b: str) -> bool:
    # ARM compares scopes case-insensitively (the script's say /resourcegroups/, ours /resourceGroups/).
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def equivalent(assignment: RoleAssignmentInfo, planned: PlannedAssignment, principal_id: str) -> bool:
    """The same grant: same principal, same role definition GUID, same scope, and no condition."""
    return (
        assignment.principal_id == principal_id.lower()
        and assignment.role_guid == planned.role.guid
        and assignment.condition is None
        and _same_scope(assignment.scope, planned.scope)
    )


def adoptable(
    plan: AccessPlan, principal_id: str, existing: Mapping[str, Sequence[RoleAssignmentInfo]]
) -> dict[PlannedAssignment, RoleAssignmentInfo]:
    """For each planned grant, the existing assignment to adopt instead of creating one (our own name first).
    `existing`: the principal's assignments per listing scope (`PlannedAssignment.listed_at`)."""
    found: dict[PlannedAssignment, RoleAssignmentInfo] = {}
    for planned in plan.assignments:
        candidates = [a for a in existing.get(planned.listed_at, []) if equivalent(a, planned, principal_id)]
        if candidates:
            found[planned] = min(candidates, key=lambda a: (a.name != planned.name, a.name))
    return found


def unrequested(
    plan: AccessPlan, principal_id: str, existing: Mapping[str, Sequence[RoleAssignmentInfo]]
) -> list[RoleAssignmentInfo]:
    """Backline's assignments the plan does not ask for and that this project did not name (so no stack of it
    created them): left alone, and worth a warning, never deleted silently."""
    planned_scopes = {(p.role.guid, p.scope.lower()) for p in plan.assignments}
    left: dict[str, RoleAssignmentInfo] = {}
    for assignment in _all(existing):
        if assignment.principal_id != principal_id.lower():
            continue
        if (assignment.role_guid, assignment.scope.rstrip("/").lower()) in planned_scopes:
            continue
        role = _OUR_ROLES.get(assignment.role_guid)
        if role is not None and assignment.name == assignment_name(assignment.scope.rstrip("/"), role):
            continue  # ours: the stack that made it deletes it when it leaves the program
        left[assignment.id.lower()] = assignment
    return [left[key] for key in sorted(left)]


def _all(existing: Mapping[str, Sequence[RoleAssignmentInfo]]) -> Iterable[RoleAssignmentInfo]:
    for assignments in existing.values():
        yield from assignments
