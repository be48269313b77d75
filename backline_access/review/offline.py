"""Running the real program under Pulumi's mock engine: no credentials, network or Pulumi CLI.

`FakeAzure` answers what the program asks of Azure; `OfflineAzure`, the default, answers without
checking anything, and every such answer is recorded so reports can show it as "not checked offline".
`PulumiBackend` answers what the program asks of the engine about the stack's own state, and the recording
monitor decides each registration's step against that state as the engine does (URNs, aliases, imports, the
replacements a provider would ask for, and the deletes at the end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, set_mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from ..azure import AssignmentInventory, ClusterInfo, ClusterInventory, ClusterReads, ClusterState, GroupInventory
from ..config import ClusterId
from ..deploy import READ_STACK_OUTPUTS, READ_STACK_RESOURCES, Urn

PROJECT = "backline-access"
PLACEHOLDER_OBJECT_ID = "<service principal object id: known after pulumi up>"

GET_CLIENT_CONFIG = "azure-native:authorization:getClientConfig"
GET_SERVICE_PRINCIPAL = "azuread:index/getServicePrincipal:getServicePrincipal"
GET_CLIENT_TOKEN = "azure-native:authorization:getClientToken"


@dataclass
class StateEntry:
    """One resource of a stack's checkpoint, as the engine keeps it."""

    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    import_id: str = ""


class EngineCrash(BaseException):
    """The Pulumi CLI itself died (a Go panic in its resource monitor): no program can catch it, so neither may
    the program under test. A BaseException, so that no `except Exception` in the program swallows it."""


class PulumiBackend:
    """Where the stack's state lives, as the engine's built-in provider answers about it. This one is the offline
    plan's: a stack that `pulumi stack init` made on a DIY backend and that was never deployed. Its checkpoint's
    `Latest` is nil: `readStackOutputs` answers empty (`pkg/backend/diy/state.go` 175-197), and
    `readStackResourceOutputs` panics the CLI (`pkg/backend/backend.go` 448 ranges over a nil snapshot)."""

    organization = "organization"

    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []  # (invoke token, stack name) as the program asked

    def latest(self) -> dict[str, StateEntry]:
        """The current stack's latest checkpoint, by URN: what the update starts from."""
        return {}

    def stack_outputs(self, name: str) -> dict[str, Any]:
        self.reads.append((READ_STACK_OUTPUTS, name))
        return {"name": name, "outputs": {}, "secretOutputNames": []}

    def stack_resources(self, name: str) -> dict[str, Any]:
        self.reads.append((READ_STACK_RESOURCES, name))
        raise EngineCrash("panic: runtime error: invalid memory address or nil pointer dereference")


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it, with the options a user sees in `pulumi preview`, and the step
    the engine would take for it against the stack's state: "create", "import", "import-replace" (the old one is
    deleted), "same", "update" or "replace" (its old one deleted, delete-first)."""

    type: str
    name: str
    urn: str
    parent: str
    provider: str
    inputs: dict[str, Any]
    import_id: str
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: tuple[str, ...]
    dependencies: tuple[str, ...] = ()
    secret_inputs: tuple[str, ...] = ()  # inputs sent to the engine as secrets
    aliases: tuple[str, ...] = ()
    step: str = "create"
    old_urn: str = ""  # the state's URN it was matched with (its own, or an alias)
    id: str = ""  # the id the engine answered with
    answered: Any = None  # and the outputs it would store, as sent (read with `outputs`)

    @property
    def outputs(self) -> dict[str, Any]:
        """The outputs the engine would store, decoded when asked (most runs never ask: it costs per resource)."""
        return dict(pulumi.runtime.rpc.deserialize_properties(self.answered)) if self.answered is not None else {}


@dataclass(frozen=True)
class InvokeCall:
    token: str
    args: dict[str, Any]
    provider: str


@dataclass
class OfflineRun:
    registrations: list[Registration]
    invokes: list[InvokeCall]
    warnings: list[str]
    outputs: dict[str, Any]
    registered_outputs: dict[str, list[str]] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)  # questions the read side answered in-process
    deleted: list[str] = field(default_factory=list)  # URNs of the state that the update would delete at its end
    registered_values: dict[str, Any] = field(default_factory=dict)  # a component's outputs by URN, as sent

    def registered_value(self, urn: str) -> dict[str, Any]:
        """A component's registered outputs, decoded."""
        sent = self.registered_values.get(urn)
        return dict(pulumi.runtime.rpc.deserialize_properties(sent)) if sent is not None else {}

    stack_outputs: dict[str, Any] = field(default_factory=dict)  # what the program exported

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]


class AzureError(Exception):
    """What a fake raises to answer an invoke with an error, as the real provider would."""


class _InvokeFailed(grpc.RpcError):  # type: ignore[misc]
    # The engine reports a provider's invoke error as a gRPC error; the SDK turns that into an
    # exception the program can catch. A plain exception from a mock would instead abort the run.
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self._message = message

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._message


class FakeAzure(Mocks):
    """Answers resources and invokes. Subclasses override `answer_*` to play an Azure estate."""

    def __init__(self) -> None:
        self.provider_inputs: dict[str, dict[str, Any]] = {}
        self.created: list[tuple[str, str]] = []
        self.service_principal_ids: list[tuple[str, str]] = []  # (id, object id) of principals it created
        self.backend = PulumiBackend()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.created.append((args.typ, args.name))
        if args.typ.startswith("pulumi:providers:"):
            self.provider_inputs[args.name] = dict(args.inputs)
            return f"{args.name}-provider-id", dict(args.inputs)
        if args.typ == "azuread:index/servicePrincipal:ServicePrincipal":
            # pulumi-azuread v6 stores `/servicePrincipals/<object id>`; objectId stays the bare GUID.
            object_id = args.resource_id.rpartition("/")[2] if args.resource_id else self.created_object_id()
            resource_id = f"/servicePrincipals/{object_id}"
            if not args.resource_id:
                self.service_principal_ids.append((resource_id, object_id))
            return resource_id, {**args.inputs, "objectId": object_id}
        if args.typ == "azure-native:authorization:RoleAssignment":
            # azure-native's outputs: ARM's body flattened (name, type, the properties), not the path parameter
            # roleAssignmentName; the id is ARM's.
            inputs = dict(args.inputs)
            name = inputs.pop("roleAssignmentName")
            assignment_id = f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}"
            return assignment_id, {"name": name, "type": "Microsoft.Authorization/roleAssignments", **inputs}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        provider = self.provider_inputs.get(_provider_name(args.provider), {})
        if args.token == GET_CLIENT_CONFIG:
            return self.answer_client_config(provider)
        if args.token == GET_SERVICE_PRINCIPAL:
            return self.answer_service_principal(args.args)
        if args.token == GET_CLIENT_TOKEN:
            return {"token": self.answer_client_token(provider, args.args)}
        if args.token == READ_STACK_OUTPUTS:
            return self.backend.stack_outputs(str(args.args.get("name")))
        if args.token == READ_STACK_RESOURCES:
            return self.backend.stack_resources(str(args.args.get("stackName")))
        raise AzureError(f"{args.token} is not answered offline")

    def created_object_id(self) -> str:
        return PLACEHOLDER_OBJECT_ID

    def answer_client_config(self, provider: Mapping[str, Any]) -> dict[str, Any]:
        return {"tenantId": provider.get("tenantId"), "subscriptionId": provider.get("subscriptionId")}

    def answer_service_principal(self, args: Mapping[str, Any]) -> dict[str, Any]:
        raise AzureError(f"No service principal found for application ID: {args.get('clientId')!r}")

    def answer_client_token(self, provider: Mapping[str, Any], args: Mapping[str, Any]) -> str:
        raise AzureError("getClientToken is not answered offline")


class InProcessReads:
    """The read side answered in-process: every selected cluster exists with Azure RBAC on. Each question is
    recorded, so reports can list it as not checked."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def read_clusters(self, clusters: Sequence[ClusterId]) -> list[ClusterState]:
        self.reads += [
            f"AKS preflight: cluster {c.resource_group}/{c.name} exists and has Azure RBAC for Kubernetes enabled"
            for c in clusters
        ]
        return [ClusterState(c, found=ClusterInfo(c, azure_rbac=True)) for c in clusters]

    def clusters_in(self, subscriptions: Iterable[str]) -> ClusterInventory:
        """Not looked at: `all: true` clusters are resolved at deploy time."""
        self.reads += [
            f"every AKS cluster of subscription {subscription}: read at deploy time (all: true resolves them; a "
            "grant above clusters has each checked for Azure RBAC)"
            for subscription in sorted(set(subscriptions))
        ]
        return ClusterInventory()

    def subscriptions_below(self, groups: Iterable[str]) -> GroupInventory:
        """Not looked at: the subscriptions below management groups are found at deploy time."""
        self.reads += [
            f"every subscription below management group {group} (for subscriptionIds): resolved at deploy time; "
            "the group exists and the deployer may read it"
            for group in dict.fromkeys(groups)
        ]
        return GroupInventory()

    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory:
        listed = sorted(set(scopes))
        self.reads.append(
            f"adoption: existing role assignments of Backline's service principal at {len(listed)} scope(s) "
            "(subscriptions and management groups; found ones are adopted instead of created)"
        )
        return AssignmentInventory({scope: [] for scope in listed})


class OfflineAzure(FakeAzure, InProcessReads):
    """The offline plan's Azure: the tenant matches, clusters exist with Azure RBAC on, and the service
    principal lookup answers with a placeholder (so `existing` mode plans too). None of it is checked."""

    def __init__(self) -> None:
        FakeAzure.__init__(self)
        InProcessReads.__init__(self)

    def answer_service_principal(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"objectId": PLACEHOLDER_OBJECT_ID, "clientId": args.get("clientId")}


def _provider_name(reference: str) -> str:
    # "urn:pulumi:stack::project::type$pulumi:providers:azure-native::NAME::ID" -> NAME
    parts = reference.split("::")
    return parts[-2] if len(parts) >= 2 else ""


# Inputs whose change a provider's Diff answers with a replacement: azure-native's forceNewMap for RoleAssignment
# (`provider/pkg/gen/replacement.go`: principalId, scope) and its path parameter, the assignment's name.
REPLACED_ON_CHANGE = {"azure-native:authorization:RoleAssignment": ("principalId", "scope", "roleAssignmentName")}
_ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


class RecordingMonitor(MockMonitor):
    """Pulumi's mock monitor, answering as the engine would against the stack's latest checkpoint (`olds`)."""

    def __init__(
        self,
        mocks: Mocks,
        on_register: Callable[[int], None] | None = None,
        olds: Mapping[str, StateEntry] = {},
        stack: str | None = None,
        project: str | None = None,
    ) -> None:
        """`stack` and `project` name the URNs; by default the running program's (a monitor served to another
        process names its own)."""
        super().__init__(mocks)
        self.stack = stack
        self.project = project
        self.on_register = on_register
        self.registrations: list[Registration] = []
        self.invokes: list[InvokeCall] = []
        self.registered_outputs: dict[str, list[str]] = {}
        self.registered_values: dict[str, Any] = {}  # as sent; decoded by OfflineRun.registered_value
        self.olds = dict(olds)
        self.claimed: dict[str, str] = {}  # old URN -> the new URN that took it over
        self.moved_from: dict[str, str] = {}  # new URN -> the old URN it matched by an alias

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's way: the parent's whole qualified type, the root stack left out (`deployment.go`
        # `generateURN`, 796-805). The mock's own keeps only the parent's last type segment.
        qualified = type_
        if parent and Urn.parse(parent).qualified_type != _ROOT_STACK_TYPE:
            qualified = f"{Urn.parse(parent).qualified_type}${type_}"
        return str(Urn(self.stack or pulumi.get_stack(), self.project or pulumi.get_project(), qualified, name))

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type == _ROOT_STACK_TYPE:
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
        aliases = tuple(alias.urn for alias in request.aliases if alias.urn)
        old = self._old_resource(urn, request, aliases)
        step = self._step(request, inputs, old)
        if step in ("same", "update") and old is not None:
            response = self._keep(urn, old)
        else:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                provider=request.provider,
                inputs=inputs,
                import_id=request.importId,
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                ignore_changes=tuple(request.ignoreChanges),
                dependencies=tuple(request.dependencies),
                secret_inputs=_secret_fields(request.object),
                aliases=aliases,
                step=step,
                old_urn=old.urn if old else "",
                id=response.id,
                answered=response.object,
            )
        )
        if self.on_register is not None:
            self.on_register(len(self.registrations))
        return response

    def _old_resource(self, urn: str, request: Any, aliases: Sequence[str]) -> StateEntry | None:
        """`step_generator.go` `getOldResource` (655-712): the URN first, then each alias, then the alias the
        engine derives from the parent's alias (`inheritedChildAlias`, 590-619). Two claims on one old resource
        are the engine's "Duplicate resource alias" error."""
        candidates = [urn, *aliases]
        parent_old = self.moved_from.get(request.parent)
        if parent_old:
            parent, old_parent = Urn.parse(request.parent), Urn.parse(parent_old)
            name = request.name
            if name.startswith(parent.name):
                name = old_parent.name + name[len(parent.name) :]
            candidates.append(str(old_parent.child(request.type, name)))
        for candidate in candidates:
            if candidate not in self.olds:
                continue
            if candidate in self.claimed:
                raise RuntimeError(f"Duplicate resource alias: {candidate} is claimed by {self.claimed[candidate]}")
            self.claimed[candidate] = urn
            if candidate != urn:
                self.moved_from[urn] = candidate
            return self.olds[candidate]
        return None

    def _step(self, request: Any, inputs: Mapping[str, Any], old: StateEntry | None) -> str:
        """The step for one registration: the import rule of `step_generator.go` 1104-1113 (an import id unequal,
        as text, to the stored import id, else the stored id, imports; over an old resource that is an
        import-replacement, 1195-1200), else a diff of the inputs a provider replaces on."""
        if request.custom and request.importId:
            if old is None:
                return "import"
            if (old.import_id or old.id) != request.importId:
                return "import-replace"
        if old is None:
            return "create"
        ignored = set(request.ignoreChanges)
        replaced = [k for k in REPLACED_ON_CHANGE.get(request.type, ()) if k not in ignored]
        if any(old.inputs.get(key) != inputs.get(key) for key in replaced):
            return "replace"
        changed = {k for k in set(old.inputs) | set(inputs) if k not in ignored and old.inputs.get(k) != inputs.get(k)}
        return "update" if changed else "same"

    def _keep(self, urn: str, old: StateEntry) -> Any:
        """The engine's answer for a resource it keeps: its id and outputs from the state."""
        state = _sync_await(pulumi.runtime.rpc.serialize_properties(old.outputs, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, old.id, old.outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=old.id, object=state)

    def deleted(self) -> list[str]:
        """The old resources no registration took over, and those replaced: the update deletes them at its end
        (`step_generator.go` `GenerateDeletes`)."""
        replaced = {r.old_urn for r in self.registrations if r.step in ("replace", "import-replace")}
        return sorted((set(self.olds) - set(self.claimed)) | replaced)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.registered_outputs[request.urn] = sorted(request.outputs.fields)
        self.registered_values[request.urn] = request.outputs  # what the engine keeps as a component's outputs
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        args = pulumi.runtime.rpc.deserialize_properties(request.args)
        self.invokes.append(InvokeCall(request.tok, dict(args), request.provider))
        try:
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        except AzureError as error:
            # The engine wraps a provider's error (`pkg/resource/deploy/source_eval.go` 1143-1145); the SDK
            # then raises "invoke of <token> failed: <this>".
            raise _InvokeFailed(f"invocation of {request.tok} returned an error: {error}") from None


def _secret_fields(struct: Any) -> tuple[str, ...]:
    """Top-level inputs that went over the wire wrapped as secrets (Pulumi's secret signature)."""
    secret_signature = pulumi.runtime.rpc._special_secret_sig
    sig_key = pulumi.runtime.rpc._special_sig_key
    return tuple(
        sorted(
            key
            for key, value in struct.fields.items()
            if value.HasField("struct_value")
            and value.struct_value.fields.get(sig_key, None) is not None
            and value.struct_value.fields[sig_key].string_value == secret_signature
        )
    )


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.messages.append(record.getMessage())


@dataclass
class _Holder:
    outputs: dict[str, Any] = field(default_factory=dict)


def run_offline(
    handed_over_config: Mapping[str, str],
    azure: FakeAzure | None = None,
    program: Callable[[], Any] | None = None,
    stack: str = "dev",
    preview: bool = False,
    reader: ClusterReads | None = None,
    secret_keys: Sequence[str] = (),
    on_register: Callable[[int], None] | None = None,
) -> OfflineRun:
    """Run the Pulumi program under mocks with config as the Pulumi CLI hands it over. The read side is
    `reader`, else `azure` when it answers reads in-process, else Azure over HTTP (a fake, in tests)."""
    from ..deploy import run

    azure = azure or OfflineAzure()
    if reader is None and isinstance(azure, ClusterReads):
        reader = azure

    monitor = RecordingMonitor(azure, on_register, azure.backend.latest())
    collector = _WarningCollector()
    logger = logging.getLogger(f"backline_access.offline.{id(monitor)}")
    logger.propagate = False
    logger.addHandler(collector)
    runtime_settings.ROOT.set(None)
    set_mocks(
        monitor.mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=monitor,
        organization=azure.backend.organization,
    )
    pulumi.runtime.set_all_config(dict(handed_over_config), list(secret_keys))
    holder = _Holder()
    exported = _Holder()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def evaluate() -> pulumi.Output[Any]:
        access = program() if program else run(reader=reader)
        stack_outputs = dict(getattr(pulumi.runtime.get_root_resource(), "outputs", None) or {})
        return pulumi.Output.all(
            pulumi.Output.all(**access.outputs()).apply(holder.outputs.update),
            pulumi.Output.all(**stack_outputs).apply(exported.outputs.update),
        )

    evaluate()
    return OfflineRun(
        monitor.registrations,
        monitor.invokes,
        collector.messages,
        holder.outputs,
        monitor.registered_outputs,
        list(reader.reads) if isinstance(reader, InProcessReads) else [],
        deleted=monitor.deleted(),
        registered_values=monitor.registered_values,
        stack_outputs=exported.outputs,
    )
