"""What this stack already manages, asked of the Pulumi engine itself: the role assignments in the stack's
latest checkpoint, by logical name.

The engine's built-in provider answers the invoke `pulumi:pulumi:readStackResourceOutputs` with every resource
of a stack's latest snapshot (keyed by URN, with its type and outputs), "which may include ongoing updates"
(pulumi/pulumi `pkg/resource/deploy/builtins.go` `readStackResourceOutputs`, `pkg/backend/backend.go`
`GetStackResourceOutputs`, since v3.0). Asked of the stack being updated, that is the state the update started
from, including grants that a failed update already made, whatever the program exports: unlike stack outputs,
which the engine replaces only once a program has finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from .preflight import PreflightError

READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"
ROLE_ASSIGNMENT_TYPE = "azure-native:authorization:RoleAssignment"
# The DIY backend's organization is always this name (pulumi/pulumi pkg/backend/diy/store.go).
DIY_ORGANIZATION = "organization"


def stack_names() -> list[str]:
    """How to name the current stack to the backend: fully qualified first (Pulumi Cloud needs it, DIY takes
    `organization/<project>/<stack>`), then the bare name (a DIY backend in the legacy layout takes only that)."""
    stack = pulumi.get_stack()
    organization = pulumi.get_organization() or DIY_ORGANIZATION
    return [f"{organization}/{pulumi.get_project()}/{stack}", stack]


def managed_role_assignments(parent: pulumi.Resource) -> frozenset[str]:
    """The logical names of the role assignments in this stack's state. Raises PreflightError when the backend
    cannot say: without it an adoption could import-replace, and so delete, a grant the stack made itself."""
    errors: list[str] = []
    for name in stack_names():
        try:
            answer = pulumi.runtime.invoke(
                READ_STACK_RESOURCES, {"stackName": name}, opts=pulumi.InvokeOptions(parent=parent)
            )
        except Exception as error:  # noqa: BLE001 - the engine's answer, whatever it is, is reported below
            errors.append(f"{name}: {error}")
            continue
        return role_assignment_names(answer.value)
    raise PreflightError(
        "Cannot read this stack's own state from the Pulumi backend, so it cannot tell the role assignments it "
        "already manages (declared as they are) from those it would adopt (imported); an import of one it manages "
        "would replace, and so delete, it. Nothing was granted.\n    "
        + "\n    ".join(errors)
        + "\n    fix: check the backend login (pulumi whoami -v); a DIY backend in the legacy layout: pulumi state "
        "upgrade"
    )


def role_assignment_names(answer: Mapping[str, Any] | None) -> frozenset[str]:
    """The logical names of the role assignments in a `readStackResourceOutputs` answer."""
    resources = (answer or {}).get("outputs") or {}
    return frozenset(
        str(urn).rsplit("::", 1)[-1]
        for urn, resource in resources.items()
        if isinstance(resource, Mapping) and resource.get("type") == ROLE_ASSIGNMENT_TYPE
    )
