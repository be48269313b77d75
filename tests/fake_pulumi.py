"""Pulumi backends as the engine's built-in provider sees them, for the program under the mock engine.

Each answers `readStackOutputs` and `readStackResourceOutputs` as pulumi/pulumi v3.259.0 does (the same code at
v3.191.0), failures included:
- names: Pulumi Cloud takes `org/project/stack`, `org/stack` and `stack` (the user's default organization and the
  current project fill in; `pkg/backend/httpstate/backend.go` `parseStackName` 1086-1105, `ParseStackReference`
  1107-1141); a DIY backend in the project layout takes the same with `organization` as the only organization
  (`pkg/backend/diy/store.go` 138-198); the legacy layout parses the whole reference with `tokens.ParseStackName`
  (store.go `legacyReferenceStore.ParseReference`, `sdk/go/common/tokens/stack_name.go` 54-87), so `/` is refused.
- a stack never deployed: on DIY its checkpoint's `Latest` is nil, `GetStackOutputs` answers empty
  (`diy/state.go` 175-197) and `GetStackResourceOutputs` panics the CLI (`pkg/backend/backend.go` 448); Pulumi
  Cloud exports it as an empty deployment.
- the answers: `{"name", "outputs", "secretOutputNames"}` (`builtins.go` 371-420) and `{"name", "outputs": {urn:
  {"type", "outputs"}}}`, resources marked for deletion left out (`backend.go` 429-460).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backline_access.review.offline import (
    PROJECT,
    AzureError,
    EngineCrash,
    OfflineRun,
    PulumiBackend,
    StateEntry,
)

READ_OUTPUTS = "pulumi:pulumi:readStackOutputs"
READ_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"
NIL_SNAPSHOT_PANIC = "panic: runtime error: invalid memory address or nil pointer dereference"


@dataclass
class Checkpoint:
    """A stack's latest deployment: its resources by URN, and the root stack's outputs."""

    resources: dict[str, StateEntry] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def stack_name_problem(name: str) -> str | None:
    """`tokens.ParseStackName`'s refusal, word for word (stack_name.go 54-87), or None."""
    if not name:
        return "a stack name may not be empty"
    if len(name) > 100:
        return "a stack name cannot exceed 100 characters"
    for position, character in enumerate(name):
        if not (character.isascii() and (character.isalnum() or character in "_.-")):
            return (
                "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
                f"invalid character '{character}' at position {position}"
            )
    return None


class FakeBackend(PulumiBackend):
    """Stacks by their backend key; a stack whose checkpoint is None was made by `pulumi stack init` and never
    deployed. The current stack is `dev` of this project."""

    def __init__(self, checkpoint: Checkpoint | None = None, stack: str = "dev") -> None:
        super().__init__()
        self.stack = stack
        self.stacks: dict[str, Checkpoint | None] = {self.own_key(): checkpoint}
        self.crashed = False
        self.failures: dict[str, str] = {}  # a name, and the backend's failure for it (a 503, a lost blob)

    def qualified(self) -> str:
        return f"{self.organization}/{PROJECT}/{self.stack}"

    def key(self, name: str) -> str:
        raise NotImplementedError

    def own_key(self) -> str:
        return self.key(self.qualified())

    def current(self) -> Checkpoint | None:
        return self.stacks[self.own_key()]

    def latest(self) -> dict[str, StateEntry]:
        checkpoint = self.current()
        return dict(checkpoint.resources) if checkpoint else {}

    def _stack(self, token: str, name: str) -> Checkpoint | None:
        self.reads.append((token, name))
        if name in self.failures:
            raise AzureError(self.failures[name])
        try:
            key = self.key(name)
        except ValueError as refused:
            raise AzureError(str(refused)) from None
        if key not in self.stacks:
            raise AzureError(f'unknown stack "{name}"')
        return self.stacks[key]

    def stack_outputs(self, name: str) -> dict[str, Any]:
        checkpoint = self._stack(READ_OUTPUTS, name)
        return {"name": name, "outputs": dict(checkpoint.outputs) if checkpoint else {}, "secretOutputNames": []}

    def stack_resources(self, name: str) -> dict[str, Any]:
        checkpoint = self._stack(READ_RESOURCES, name)
        if checkpoint is None:
            return self.never_deployed_resources(name)
        return {
            "name": name,
            "outputs": {urn: {"type": r.type, "outputs": dict(r.outputs)} for urn, r in checkpoint.resources.items()},
        }

    def never_deployed_resources(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def deploy(self, run: OfflineRun) -> None:
        """The update's result becomes the current stack's latest checkpoint, as the engine would leave it: each
        registered resource under its new URN (kept ones with their stored id, outputs and import id), the
        deleted ones gone, the program's exports as the stack's outputs."""
        old = self.latest()
        resources: dict[str, StateEntry] = {}
        for registration in run.registrations:
            kept = old.get(registration.old_urn) if registration.step in ("same", "update") else None
            import_id = registration.import_id if registration.step in ("import", "import-replace") else ""
            resources[registration.urn] = StateEntry(
                urn=registration.urn,
                type=registration.type,
                id=kept.id if kept else registration.id,
                inputs=dict(registration.inputs),
                outputs=dict(kept.outputs if kept else registration.outputs),
                import_id=kept.import_id if kept else import_id,
            )
        self.stacks[self.own_key()] = Checkpoint(resources, dict(run.stack_outputs))


class DiyBackend(FakeBackend):
    """`pulumi login --local`, `azblob://`, `s3://`: project layout by default, or the legacy one."""

    organization = "organization"

    def __init__(self, checkpoint: Checkpoint | None = None, layout: str = "project", stack: str = "dev") -> None:
        self.layout = layout
        super().__init__(checkpoint, stack)

    def own_key(self) -> str:
        return self.stack if self.layout == "legacy" else super().own_key()

    def key(self, name: str) -> str:
        if self.layout == "legacy":
            problem = stack_name_problem(name)
            if problem:
                raise ValueError(problem)
            return name
        parts = name.split("/")
        org, project, stack = "organization", PROJECT, ""  # more than three parts: an empty stack name
        if len(parts) == 1:
            stack = parts[0]
        elif len(parts) == 2:
            org, stack = parts
        elif len(parts) == 3:
            org, project, stack = parts
        if org != "organization":
            raise ValueError("organization name must be 'organization'")
        problem = stack_name_problem(stack)
        if problem:
            raise ValueError(problem)
        return f"{project}/{stack}"

    def never_deployed_resources(self, name: str) -> dict[str, Any]:
        # The CLI dies; no program could answer this. The test that gets here fails.
        self.crashed = True
        raise EngineCrash(f"{NIL_SNAPSHOT_PANIC} (pkg/backend/backend.go:448, asked for {name})")


class CloudBackend(FakeBackend):
    """Pulumi Cloud: `organization` is the stack's organization, `default_organization` the user's default
    (what a bare name resolves to)."""

    def __init__(
        self,
        checkpoint: Checkpoint | None = None,
        organization: str = "acme",
        default_organization: str | None = None,
        stack: str = "dev",
    ) -> None:
        self.organization = organization
        self.default_organization = default_organization or organization
        super().__init__(checkpoint, stack)

    def key(self, name: str) -> str:
        parts = name.split("/")
        if len(parts) > 3:
            raise ValueError(f"could not parse stack name '{name}'")
        owner, project, stack = self.default_organization, PROJECT, parts[-1]
        if len(parts) == 2:
            owner = parts[0]
        elif len(parts) == 3:
            owner, project = parts[0], parts[1]
        problem = stack_name_problem(stack)
        if problem:
            raise ValueError(problem)
        return f"{owner}/{project}/{stack}"

    def never_deployed_resources(self, name: str) -> dict[str, Any]:
        return {"name": name, "outputs": {}}
