"""The half of verification that proves Backline holds read access and nothing else in Azure: every assignment of
its principal that the role checks' listings return (no listing of its own), judged by its role definition.

A role other than Reader and Azure Kubernetes Service RBAC Reader is read once per distinct role (one GET of
`…/roleDefinitions/{guid}`): any action or data action that is not a read, minus the role's own exclusions, fails;
a read-only extra role warns. Reader or AKS RBAC Reader at a scope the stack does not grant warns ("more than this
stack grants"). What cannot be read is unknown, never pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..azure import AssignmentInventory, AzureReadError, RoleAssignmentInfo, RoleDefinitionInfo
from ..config import GRANTED_ROLE_NAMES
from .model import Check

CHECK = "least privilege"


class RoleDefinitionReads(Protocol):
    def role_definition(self, role_definition_id: str) -> RoleDefinitionInfo: ...


def least_privilege_checks(
    inventory: AssignmentInventory, reader: RoleDefinitionReads, az: str, planned: set[tuple[str, str]]
) -> list[Check]:
    """One check per assignment beyond what the plan grants, else one `pass` naming what was read. `planned`:
    (lower-case scope, role guid) of every grant the plan makes."""
    # A scope Azure does not have is the role check's to report ("not found"), once: not a missing Reader here.
    failures = {
        scope: failure
        for scope, failure in inventory.failures.items()
        if not (failure.not_found or failure.subscription_not_found)
    }
    if failures:
        forbidden = sorted(scope for scope, failure in failures.items() if failure.forbidden)
        other = sorted(
            f"{scope} ({failure.describe()})" for scope, failure in failures.items() if not failure.forbidden
        )
        fixes = [f"give the identity that verifies Reader on {', '.join(forbidden)}"] if forbidden else []
        fixes += ["run again; if it persists, check Azure's status"] if other else []
        return [
            Check(
                CHECK,
                "Azure role assignments",
                "unknown",
                f"the role assignments at {', '.join(forbidden + other)} could not be read, so what else Backline "
                "holds there is not known",
                "; ".join(fixes),
            )
        ]
    assignments = inventory.distinct()
    checks: list[Check] = []
    definitions: dict[str, RoleDefinitionInfo | AzureReadError] = {}
    for assignment in assignments:
        if assignment.role_guid in GRANTED_ROLE_NAMES:
            if (assignment.scope.rstrip("/").lower(), assignment.role_guid) not in planned:
                checks.append(_more_than_asked(assignment, GRANTED_ROLE_NAMES[assignment.role_guid], az))
            continue
        if assignment.role_guid not in definitions:
            try:
                definitions[assignment.role_guid] = reader.role_definition(assignment.role_definition_id)
            except AzureReadError as error:
                definitions[assignment.role_guid] = error
        checks.append(_judged(assignment, definitions[assignment.role_guid], az))
    if not checks:
        scopes = len(inventory.assignments)
        return [
            Check(
                CHECK,
                "Azure role assignments",
                "pass",
                f"{len(assignments)} assignment(s) read at, above and below {scopes} scope(s): only Reader and "
                "Azure Kubernetes Service RBAC Reader, only where this stack grants them",
            )
        ]
    return checks


def _delete(assignment: RoleAssignmentInfo, az: str) -> str:
    return f"{az}az role assignment delete --ids {assignment.id}"


def _condition(assignment: RoleAssignmentInfo) -> str:
    return f" (with the condition {assignment.condition})" if assignment.condition else ""


def _more_than_asked(assignment: RoleAssignmentInfo, role: str, az: str) -> Check:
    return Check(
        CHECK,
        assignment.scope,
        "warn",
        f"{role} here is more than this stack grants (assignment {assignment.name}, not made by this stack)"
        + _condition(assignment),
        f"if it is not wanted: {_delete(assignment, az)}",
    )


def _judged(assignment: RoleAssignmentInfo, definition: RoleDefinitionInfo | AzureReadError, az: str) -> Check:
    if isinstance(definition, AzureReadError):
        return Check(
            CHECK,
            assignment.scope,
            "unknown",
            f"assignment {assignment.name} names role {assignment.role_guid}, whose definition could not be read "
            f"({definition})",
            "give the identity that verifies Reader where the role is defined",
        )
    writes = not_read_only(definition)
    if writes:
        return Check(
            CHECK,
            assignment.scope,
            "fail",
            f"role '{definition.role_name}' (assignment {assignment.name}) allows more than reading: "
            f"{', '.join(writes[:5])}{' …' if len(writes) > 5 else ''}" + _condition(assignment),
            _delete(assignment, az),
        )
    return Check(
        CHECK,
        assignment.scope,
        "warn",
        f"role '{definition.role_name}' (assignment {assignment.name}) only reads, but is more than this stack "
        "grants" + _condition(assignment),
        f"if it is not wanted: {_delete(assignment, az)}",
    )


def not_read_only(definition: RoleDefinitionInfo) -> list[str]:
    """The actions and data actions that are not reads (`*`, `*/write`, `…/delete`, `…/action`), minus those the
    role itself excludes (`notActions`, `notDataActions`, compared case-insensitively)."""
    excluded = {entry.lower() for entry in (*definition.not_actions, *definition.not_data_actions)}
    granted: Sequence[str] = (*definition.actions, *definition.data_actions)
    return [entry for entry in granted if not _reads(entry) and entry.lower() not in excluded]


def _reads(entry: str) -> bool:
    return entry.lower().endswith("/read")
