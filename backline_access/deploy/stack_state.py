"""What this stack's state already holds, asked of the Pulumi engine itself. Every call to the engine's built-in
provider is in this module, behind `read_stack_state`.

The built-in provider serves `pulumi:pulumi:readStackOutputs` and `pulumi:pulumi:readStackResourceOutputs`
(pulumi/pulumi v3.259.0 `pkg/resource/deploy/builtins.go` 331-355, the same at v3.191.0; package `pulumi` never
loads a plugin, in preview and update alike). The second answers `{"name", "outputs": {urn: {"type", "outputs"}}}`
for every resource of the stack's latest snapshot, those marked for deletion left out (`pkg/backend/backend.go`
`GetStackResourceOutputs`, 429-460). Asked of the stack being updated, that is the state the update started from,
grants that a failed update made included. No Pulumi SDK has called it since v3.161.0 (pulumi/pulumi#19130 removed
Node's `listResourceOutputs`); if a future CLI drops it, the built-in answers "unrecognized function name"
(builtins.go 349) and the run stops here, before anything is registered, saying so.

Why the outputs are asked first on a DIY backend: a stack that `pulumi stack init` made there has a checkpoint
whose `Latest` is nil, `getSnapshot` returns `(nil, nil)` (`pkg/resource/stack/checkpoint.go`
`DeserializeCheckpoint`, 201-214) and `GetStackResourceOutputs` ranges over `snap.Resources` (backend.go 448): a
nil-pointer panic in the CLI's resource monitor, whose gRPC server has no recover handler
(`sdk/go/common/util/rpcutil/serve.go`); no `try` here could catch it. `GetStackOutputs` is nil-safe there
(`pkg/backend/diy/state.go` 175-197: empty outputs). Outputs present means a deployment exists, so the resource
read is safe; no outputs means a stack never deployed, or a program that exports nothing: its state is unknown.
Pulumi Cloud exports a new stack as an empty deployment (`pkg/backend/httpstate/state.go` `getSnapshot`, 193-230),
so there the resources are read at once. The DIY backend's organization is always `organization`
(`pkg/backend/diy/state.go` 104, `backend.go` 185-188); any other organization is Pulumi Cloud's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .preflight import PreflightError
from .urn import TYPE_DELIMITER, Urn

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"
DIY_ORGANIZATION = "organization"

COMPONENT_TYPE = "backline:index:BacklineAccess"
ROLE_ASSIGNMENT_TYPE = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL_TYPE = "azuread:index/servicePrincipal:ServicePrincipal"

# The DIY legacy layout parses a stack reference with tokens.ParseStackName alone, which refuses `/`
# (`sdk/go/common/tokens/stack_name.go` 54-87; `pkg/backend/diy/store.go` legacyReferenceStore.ParseReference).
_REFUSED_AS_A_NAME = "a stack name may only contain alphanumeric, hyphens, underscores, or periods"
_DROPPED_BY_THE_CLI = "unrecognized function name"

NO_OUTPUTS = (
    "the stack has no outputs: it was never deployed on a DIY backend (where asking for its resources would crash "
    "the Pulumi CLI), or the program exports none"
)


@dataclass(frozen=True)
class StateResource:
    """One resource of the stack's latest checkpoint, as the engine answers: its URN, type and outputs."""

    urn: Urn
    type: str
    outputs: Mapping[str, Any]

    def value(self, key: str) -> str:
        """An output as text; else the input of that name that azure-native keeps in its state under `__inputs`
        (`checkpointObject` in its provider), for a resource whose create stopped half-way."""
        found = self.outputs.get(key)
        if found is None:
            inputs = self.outputs.get("__inputs")
            found = inputs.get(key) if isinstance(inputs, Mapping) else None
        return "" if found is None else str(found)

    @property
    def in_component(self) -> bool:
        """A child of a BacklineAccess component, however deep the component sits in the customer's program."""
        return COMPONENT_TYPE in self.urn.parent_type.split(TYPE_DELIMITER)


@dataclass(frozen=True)
class StackState:
    """The stack's latest checkpoint, or why it is unknown (`unknown_because`)."""

    resources: tuple[StateResource, ...] = ()
    unknown_because: str | None = None

    @property
    def known(self) -> bool:
        return self.unknown_because is None

    def of_type(self, type_: str) -> list[StateResource]:
        return [resource for resource in self.resources if resource.type == type_]


def stack_names(organization: str) -> list[str]:
    """How to name the current stack to the backend. Fully qualified first: Pulumi Cloud resolves a bare name in
    the user's *default* organization (`pkg/backend/httpstate/backend.go` `ParseStackReference`, 1107-1141), possibly
    another stack, so there it is the only name. A DIY backend takes `organization/<project>/<stack>` in the project
    layout (`diy/store.go` 138-198); the legacy layout only the bare name."""
    stack = pulumi.get_stack()
    qualified = f"{organization}/{pulumi.get_project()}/{stack}"
    return [qualified, stack] if organization == DIY_ORGANIZATION else [qualified]


def read_stack_state() -> StackState:
    """This stack's state, read with as few engine calls as the backend allows (one on Pulumi Cloud, two on DIY).
    Raises PreflightError when the backend does not answer: without the state, an adoption could import-replace,
    and so delete, a grant the stack made itself."""
    organization = pulumi.get_organization() or DIY_ORGANIZATION
    names = stack_names(organization)
    if organization == DIY_ORGANIZATION:
        name, answer = _ask(READ_STACK_OUTPUTS, "name", names)
        if not answer.get("outputs"):
            return StackState(unknown_because=NO_OUTPUTS)
        names = [name]
    _, answer = _ask(READ_STACK_RESOURCES, "stackName", names)
    return StackState(state_resources(answer))


def state_resources(answer: Mapping[str, Any]) -> tuple[StateResource, ...]:
    """The resources of a `readStackResourceOutputs` answer."""
    resources = answer.get("outputs") or {}
    return tuple(
        StateResource(Urn.parse(str(urn)), str(resource.get("type")), resource.get("outputs") or {})
        for urn, resource in resources.items()
        if isinstance(resource, Mapping)
    )


def _ask(token: str, key: str, names: Sequence[str]) -> tuple[str, Mapping[str, Any]]:
    """The first name the backend takes. The next name is tried only when the backend refused this one as a name,
    never after another failure (a 503 on Pulumi Cloud must not send the read to another stack)."""
    for index, name in enumerate(names):
        try:
            answer = pulumi.runtime.invoke(token, {key: name}).value
        except Exception as error:  # noqa: BLE001 - the engine's answer, whatever it is, is reported
            if _REFUSED_AS_A_NAME in str(error) and index + 1 < len(names):
                continue
            raise _unreadable(token, name, str(error)) from None
        return name, answer or {}
    raise AssertionError("no stack name to ask")  # unreachable: names is never empty


def _unreadable(token: str, name: str, answer: str) -> PreflightError:
    if _DROPPED_BY_THE_CLI in answer:
        fix = (
            f"this Pulumi CLI no longer serves {token}: use a Pulumi CLI from 3.200 to the newest that does, and "
            "report it to backline-access"
        )
    else:
        fix = "run again (a passing backend error); check the backend login with pulumi whoami -v"
    return PreflightError(
        f"Cannot read this stack's own state from the Pulumi backend, so it cannot tell the role assignments it "
        f"already manages from those it would adopt (an import of one it manages would replace, and so delete, it). "
        f"Nothing was registered.\n    {name}: {answer}\n    fix: {fix}"
    )
