"""Access that already exists: which planned grants an existing role assignment already gives (the bash
script's, a person's, or this stack's own after its state was lost), how each is declared, which conditional
assignment would block a grant, and which of Backline's assignments the plan does not ask for. Pure data: the
read side finds the assignments, the component declares them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..azure import RoleAssignmentInfo
from ..config import AKS_RBAC_READER, READER, assignment_name
from ..plan import AccessPlan, PlannedAssignment

_OUR_ROLES = {READER.guid: READER, AKS_RBAC_READER.guid: AKS_RBAC_READER}
_ASSIGNMENTS_SEGMENT = "/providers/microsoft.authorization/roleassignments/"


def id_parts(assignment_id: str) -> tuple[str, str]:
    """(scope, name) cut from a role assignment id's own text, at `/providers/Microsoft.Authorization/
    roleAssignments/` matched ignoring case: what azure-native reads back as `scope` and `roleAssignmentName` when
    it imports that id (ParseResourceID on the id's text, then the path parameters in ResponseToSdkInputs)."""
    at = assignment_id.lower().rfind(_ASSIGNMENTS_SEGMENT)
    if at < 0:
        raise ValueError(f"not a role assignment id: {assignment_id}")
    return assignment_id[:at], assignment_id[at + len(_ASSIGNMENTS_SEGMENT) :]


@dataclass(frozen=True)
class Declaration:
    """How one planned grant that exists in Azure is declared. `managed`: this stack's state holds it already
    (created or imported by an earlier run), so it is declared with no import id, because the engine compares an
    import id with the stored one as text and import-replaces (deletes) on any difference. Otherwise it is
    imported by ARM's id, with `scope` and `roleAssignmentName` cut from that id's text."""

    existing: RoleAssignmentInfo
    managed: bool

    @property
    def import_id(self) -> str | None:
        return None if self.managed else self.existing.id


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


def conditional_equivalents(
    plan: AccessPlan, principal_id: str, existing: Mapping[str, Sequence[RoleAssignmentInfo]]
) -> dict[PlannedAssignment, RoleAssignmentInfo]:
    """Planned grants where Backline already holds the same role at the same scope, but with a condition. ARM
    takes (principal, role, scope) as an assignment's identity, so creating the unconditioned one beside it fails
    with 409 RoleAssignmentExists; and adopting it would take its condition for ours."""
    found: dict[PlannedAssignment, RoleAssignmentInfo] = {}
    for planned in plan.assignments:
        for assignment in existing.get(planned.listed_at, []):
            if (
                assignment.condition is not None
                and assignment.principal_id == principal_id.lower()
                and assignment.role_guid == planned.role.guid
                and _same_scope(assignment.scope, planned.scope)
            ):
                found[planned] = assignment
    return found


def declarations(
    adopted: Mapping[PlannedAssignment, RoleAssignmentInfo], managed: Collection[PlannedAssignment]
) -> dict[PlannedAssignment, Declaration]:
    return {planned: Declaration(existing, planned in managed) for planned, existing in adopted.items()}


def declared_inputs(planned: PlannedAssignment, declaration: Declaration | None) -> dict[str, object]:
    """What to declare besides the principal. Not in Azure: the plan. In Azure: as azure-native reads it back on
    import, `scope` and `roleAssignmentName` from the id's text, the rest from ARM's body, so an import matches
    and a later run declares the same again."""
    inputs: dict[str, object] = {
        "role_definition_id": planned.role_definition_id,
        "scope": planned.scope,
        "role_assignment_name": planned.name,
    }
    if declaration is None:
        return inputs
    existing = declaration.existing
    scope, name = id_parts(existing.id)
    inputs |= {"scope": scope, "role_assignment_name": name, "role_definition_id": existing.role_definition_id}
    if existing.principal_type:
        inputs["principal_type"] = existing.principal_type
    optional = {
        "description": existing.description,
        "condition": existing.condition,
        "condition_version": existing.condition_version,
    }
    return inputs | {key: value for key, value in optional.items() if value}


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
