"""Running the real program under Pulumi's mock engine: no credentials, network or Pulumi CLI.

`FakeAzure` answers what the program asks of Azure; `OfflineAzure`, the default, answers without
checking anything, and every such answer is recorded so reports can show it as "not checked offline".
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

from ..azure import AssignmentInventory, ClusterInfo, ClusterInventory, ClusterReads, ClusterState, GroupInventory
from ..config import ClusterId
from ..deploy import READ_STACK_RESOURCES

PROJECT = "backline-access"
PLACEHOLDER_OBJECT_ID = "<service principal object id: known after pulumi up>"

GET_CLIENT_CONFIG = "azure-native:authorization:getClientConfig"
GET_SERVICE_PRINCIPAL = "azuread:index/getServicePrincipal:getServicePrincipal"
GET_CLIENT_TOKEN = "azure-native:authorization:getClientToken"


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it, with the options a user sees in `pulumi preview`."""

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
        # The stack's latest checkpoint as the engine's built-in provider answers it: URN -> {type, outputs}.
        # Empty: a new stack (or one whose state was lost).
        self.checkpoint: dict[str, dict[str, Any]] = {}
        self.stack_reads: list[str] = []  # the stack names the program asked the backend for

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
            inputs = args.inputs
            assignment_id = (
                f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{inputs['roleAssignmentName']}"
            )
            return assignment_id, {**inputs, "name": inputs["roleAssignmentName"]}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        provider = self.provider_inputs.get(_provider_name(args.provider), {})
        if args.token == GET_CLIENT_CONFIG:
            return self.answer_client_config(provider)
        if args.token == GET_SERVICE_PRINCIPAL:
            return self.answer_service_principal(args.args)
        if args.token == GET_CLIENT_TOKEN:
            return {"token": self.answer_client_token(provider, args.args)}
        if args.token == READ_STACK_RESOURCES:
            return self.answer_stack_resources(str(args.args.get("stackName")))
        raise AzureError(f"{args.token} is not answered offline")

    def created_object_id(self) -> str:
        return PLACEHOLDER_OBJECT_ID

    def answer_stack_resources(self, stack_name: str) -> dict[str, Any]:
        self.stack_reads.append(stack_name)
        return {"name": stack_name, "outputs": dict(self.checkpoint)}

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
            f"every AKS cluster of subscription {subscription} (all: true): resolved at deploy time"
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


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks, on_register: Callable[[int], None] | None = None) -> None:
        super().__init__(mocks)
        self.on_register = on_register
        self.registrations: list[Registration] = []
        self.invokes: list[InvokeCall] = []
        self.registered_outputs: dict[str, list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    import_id=request.importId,
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    ignore_changes=tuple(request.ignoreChanges),
                    dependencies=tuple(request.dependencies),
                    secret_inputs=_secret_fields(request.object),
                )
            )
            if self.on_register is not None:
                self.on_register(len(self.registrations))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        outputs = pulumi.runtime.rpc.deserialize_properties(request.outputs)
        self.registered_outputs[request.urn] = sorted(outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        args = pulumi.runtime.rpc.deserialize_properties(request.args)
        self.invokes.append(InvokeCall(request.tok, dict(args), request.provider))
        try:
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        except AzureError as error:
            raise _InvokeFailed(str(error)) from None


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

    monitor = RecordingMonitor(azure, on_register)
    collector = _WarningCollector()
    logger = logging.getLogger(f"backline_access.offline.{id(monitor)}")
    logger.propagate = False
    logger.addHandler(collector)
    runtime_settings.ROOT.set(None)
    set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, logger=logger, monitor=monitor)
    pulumi.runtime.set_all_config(dict(handed_over_config), list(secret_keys))
    holder = _Holder()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def evaluate() -> pulumi.Output[Any]:
        access = program() if program else run(reader=reader)
        return pulumi.Output.all(**access.outputs()).apply(holder.outputs.update)

    evaluate()
    return OfflineRun(
        monitor.registrations,
        monitor.invokes,
        collector.messages,
        holder.outputs,
        monitor.registered_outputs,
        list(reader.reads) if isinstance(reader, InProcessReads) else [],
    )
