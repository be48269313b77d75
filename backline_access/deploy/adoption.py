"""Access that already exists: which planned grants an existing role assignment already gives (the bash
script's, a person's, or this stack's own after its state was lost), how each is declared, which conditional
assignment would block a grant, and which of Backline's assignments the plan does not ask for. Pure data: the
read side finds the assignments, the component declares them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..azure import RoleAssignmentInfo
from ..config import AKS_RBAC_READER, READER, assignment_name, management_group_of
from ..plan import AccessPlan, PlannedAssignment
from .stack_state import COMPONENT_TYPE, ROLE_ASSIGNMENT_TYPE, SERVICE_PRINCIPAL_TYPE, StackState, StateResource
from .urn import Urn

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
    """How one planned grant that exists is declared. `managed`: it is this stack's own (its state holds it, or,
    with the state unknown, it carries this project's name), so it is declared with no import id, because the
    engine compares an import id with the stored one as text and import-replaces (deletes) on any difference
    (`step_generator.go` 1104-1113, 1195-1200). Otherwise it is imported by ARM's id, with `scope` and
    `roleAssignmentName` cut from that id's text. `alias`: the URN the state holds it under, so that a renamed or
    moved component keeps it (an alias is never given with an import id)."""

    existing: RoleAssignmentInfo
    managed: bool
    alias: str | None = None

    @property
    def import_id(self) -> str | None:
        return None if self.managed else self.existing.id


@dataclass(frozen=True)
class Drift:
    """A grant this stack's state holds that Azure does not list (deleted in the portal, say): until a refresh,
    the engine believes it exists and changes nothing. `instead`: an equivalent grant Azure has under another
    name, if any."""

    planned: PlannedAssignment
    held: RoleAssignmentInfo
    instead: RoleAssignmentInfo | None


@dataclass(frozen=True)
class Adoption:
    """What the program declares for the planned grants that exist, and what it must say about them."""

    declarations: Mapping[PlannedAssignment, Declaration]
    blocking: Mapping[PlannedAssignment, RoleAssignmentInfo]  # conditional equivalents: a create would 409
    drift: Sequence[Drift]
    # With the state unknown: grants Azure has under this project's own names, declared as this stack's own.
    own_in_unknown_state: Sequence[PlannedAssignment]
    # AKS grants the state holds that leave the plan while a planned AKS grant reaching the same clusters is not in
    # Azure yet (a switch between per-cluster grants and one above them): kept, by their URN, for this update.
    bridged: Sequence[tuple[str, RoleAssignmentInfo]] = ()


def _scope_key(scope: str) -> str:
    # ARM compares scopes case-insensitively (the script's say /resourcegroups/, ours /resourceGroups/).
    return scope.rstrip("/").lower()


def _same_scope(a: str, b: str) -> bool:
    return _scope_key(a) == _scope_key(b)


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


def held_grants(state: StackState, principal_id: str) -> dict[tuple[str, str], tuple[str, RoleAssignmentInfo]]:
    """The role assignments of Backline's principal that this stack's state holds under a BacklineAccess
    component, by (role GUID, scope), each with the URN the state holds it under. Matched by what they grant, not
    by logical name, so a renamed or moved component still finds its grants."""
    held: dict[tuple[str, str], tuple[str, RoleAssignmentInfo]] = {}
    for resource in state.of_type(ROLE_ASSIGNMENT_TYPE):
        grant = _as_assignment(resource)
        if resource.in_component and grant is not None and grant.principal_id == principal_id.lower():
            held[(grant.role_guid, _scope_key(grant.scope))] = (str(resource.urn), grant)
    return held


def adopt(
    plan: AccessPlan,
    principal_id: str,
    existing: Mapping[str, Sequence[RoleAssignmentInfo]],
    state: StackState,
    adopt_own_names: bool = False,
) -> Adoption:
    """How each planned grant that exists is declared, from Azure's listing (`existing`, per listing scope) and
    this stack's state. State known: what it holds is this stack's own (declared from the state, aliased to its
    URN, with drift named); anything else equivalent in Azure is imported. State unknown: a grant under this
    project's deterministic name is this stack's own, or a lost stack's, and is never imported unless
    `adopt_own_names` (the documented one-run switch for lost state); any other is imported, as on a first run."""
    held = held_grants(state, principal_id) if state.known else {}
    in_azure = adoptable(plan, principal_id, existing)
    found: dict[PlannedAssignment, Declaration] = {}
    drift: list[Drift] = []
    own: list[PlannedAssignment] = []
    for planned in plan.assignments:
        key = (planned.role.guid, _scope_key(planned.scope))
        if key in held:
            urn, grant = held[key]
            found[planned] = Declaration(grant, managed=True, alias=urn)
            if not _listed(grant, existing.get(planned.listed_at, [])):
                drift.append(Drift(planned, grant, in_azure.get(planned)))
            continue
        assignment = in_azure.get(planned)
        if assignment is None:
            continue
        ours = not state.known and assignment.name == planned.name and not adopt_own_names
        if ours:
            own.append(planned)
        found[planned] = Declaration(assignment, managed=ours)
    blocking = {
        planned: conditional
        for planned, conditional in conditional_equivalents(plan, principal_id, existing).items()
        if planned not in found and not (not state.known and conditional.name == planned.name)
    }
    arriving = [p for p in plan.assignments if p.role == AKS_RBAC_READER and p not in found]
    return Adoption(found, blocking, drift, own, _bridged(plan, held, arriving))


def _bridged(
    plan: AccessPlan,
    held: Mapping[tuple[str, str], tuple[str, RoleAssignmentInfo]],
    arriving: Sequence[PlannedAssignment],
) -> list[tuple[str, RoleAssignmentInfo]]:
    """Held AKS grants that the plan drops while a grant reaching the same clusters is still to be made. The
    engine would delete them at the end of this very update, after the new grant's create returned
    (`deployment_executor.go` 483-486: deletes are generated once the program is done), but a new assignment may
    take minutes to take effect: they are kept until a later update finds the new grant in Azure."""
    planned = {(p.role.guid, _scope_key(p.scope)) for p in plan.assignments}
    below = {**(plan.subscriptions_below or {}), **(plan.aks_groups_below or {})}
    return [
        (urn, grant)
        for key, (urn, grant) in held.items()
        if key not in planned
        and grant.role_guid == AKS_RBAC_READER.guid
        and any(_reaches(p.scope, grant.scope, below) or _reaches(grant.scope, p.scope, below) for p in arriving)
    ]


def _reaches(above: str, scope: str, below: Mapping[str, Sequence[str]]) -> bool:
    """Whether an assignment at `above` applies at `scope` (the same, or below it)."""
    a, s = _scope_key(above), _scope_key(scope)
    if a == s or s.startswith(a + "/"):
        return True
    group = management_group_of(a)
    if group is None or not s.startswith("/subscriptions/"):
        return False
    subscriptions = next((found for name, found in below.items() if name.lower() == group), ())
    return s.split("/")[2] in {subscription.lower() for subscription in subscriptions}


def moved_from(state: StackState, plan: AccessPlan) -> str | None:
    """The URN of the BacklineAccess component whose grants this plan declares, read from the state: the parent of
    each held grant whose logical name is `<component name>-<planned key>`. Given to the component as an alias, it
    makes the engine move the component and, by the alias it derives for each child (`step_generator.go`
    `inheritedChildAlias`, 590-619: the parent's old name replaces its new one at the front of the child's name),
    its providers, service principal and grants, after a rename or a move under a customer's own component: nothing
    is created or deleted. None when no held grant, or more than one component, answers."""
    components = {str(resource.urn) for resource in state.of_type(COMPONENT_TYPE)}
    planned_by_grant = {(p.role.guid, _scope_key(p.scope)): p for p in plan.assignments}
    parents: set[str] = set()
    for resource in state.of_type(ROLE_ASSIGNMENT_TYPE):
        grant = _as_assignment(resource)
        planned = planned_by_grant.get((grant.role_guid, _scope_key(grant.scope))) if grant else None
        suffix = f"-{planned.key}" if planned else ""
        if not suffix or not resource.urn.name.endswith(suffix):
            continue
        old = resource.urn
        parent = str(Urn(old.stack, old.project, old.parent_type, old.name[: -len(suffix)]))
        if parent in components:
            parents.add(parent)
    return parents.pop() if len(parents) == 1 else None


def held_principal(state: StackState, object_id: str) -> str | None:
    """The URN under which this stack's state holds Backline's service principal (by object id), if it does."""
    for resource in state.of_type(SERVICE_PRINCIPAL_TYPE):
        if resource.in_component and resource.value("objectId").lower() == object_id.lower():
            return str(resource.urn)
    return None


def _as_assignment(resource: StateResource) -> RoleAssignmentInfo | None:
    """A role assignment in the state as ARM would list it; None when its outputs do not say what it grants."""
    name = resource.value("name") or resource.value("roleAssignmentName")
    scope = resource.value("scope")
    role = resource.value("roleDefinitionId")
    if not (name and scope and role):
        return None
    return RoleAssignmentInfo(
        id=f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}",
        name=name,
        scope=scope,
        role_definition_id=role,
        principal_id=resource.value("principalId").lower(),
        principal_type=resource.value("principalType"),
        condition=resource.value("condition") or None,
        description=resource.value("description") or None,
        condition_version=resource.value("conditionVersion") or None,
    )


def _listed(grant: RoleAssignmentInfo, listed: Sequence[RoleAssignmentInfo]) -> bool:
    return any(a.name.lower() == grant.name.lower() and _same_scope(a.scope, grant.scope) for a in listed)


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
    plan: AccessPlan,
    principal_id: str,
    existing: Mapping[str, Sequence[RoleAssignmentInfo]],
    state: StackState | None = None,
) -> list[RoleAssignmentInfo]:
    """Backline's assignments the plan does not ask for, that this project did not name (so no stack of it created
    them) and that this stack's state does not hold (the engine deletes those as they leave the program): left
    alone, and worth a warning, never deleted silently."""
    planned_scopes = {(p.role.guid, _scope_key(p.scope)) for p in plan.assignments}
    held = {grant.name.lower() for _, grant in held_grants(state, principal_id).values()} if state else set()
    left: dict[str, RoleAssignmentInfo] = {}
    for assignment in _all(existing):
        if assignment.principal_id != principal_id.lower() or assignment.name.lower() in held:
            continue
        if (assignment.role_guid, _scope_key(assignment.scope)) in planned_scopes:
            continue
        role = _OUR_ROLES.get(assignment.role_guid)
        if role is not None and assignment.name == assignment_name(_scope_key(assignment.scope), role):
            continue  # ours: the stack that made it deletes it when it leaves the program
        left[assignment.id.lower()] = assignment
    return [left[key] for key in sorted(left)]


def _all(existing: Mapping[str, Sequence[RoleAssignmentInfo]]) -> Iterable[RoleAssignmentInfo]:
    for assignments in existing.values():
        yield from assignments
