"""The Pulumi engine as a component provider plugin meets it, over real gRPC, and the plugin started as the python
language host starts it.

- The plugin: `python <plugin dir> <engine address>` with the working directory of the `pulumi` command
  (pulumi/pulumi v3.259.0 `sdk/python/cmd/pulumi-language-python/main.go` RunPlugin, 1608-1623 and 1640-1642); it
  prints its port on stdout (`sdk/python/lib/pulumi/provider/server.py` `main`).
- The engine: its Engine service (Log) and a resource monitor that answers as the mock engine does for a program
  (`RecordingMonitor`: the engine's URNs and steps against the stack's state, the fake's invokes), served on a port
  that a `ConstructRequest` names as `monitorEndpoint`, as `pkg/resource/deploy/source_eval.go` does (2733-2800).
- A consumer's explicit provider is registered first, as the consumer's program would, and handed over as the
  engine does, `<urn>::<id>` by package (source_eval.go 2492-2499 and 2759: `providerRefs`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)
from pulumi.runtime.sync_await import _sync_await

from backline_access.deploy.urn import Urn
from backline_access.review.offline import FakeAzure, RecordingMonitor, Registration, StateEntry

PLUGIN_DIR = Path(__file__).resolve().parent.parent / "provider"
CONSUMER_PROJECT = "platform"
CONSUMER_STACK = "prod"
ROOT_URN = str(Urn(CONSUMER_STACK, CONSUMER_PROJECT, "pulumi:pulumi:Stack", f"{CONSUMER_PROJECT}-{CONSUMER_STACK}"))


@dataclass
class LogLine:
    severity: int
    message: str
    urn: str


@dataclass
class _Served:
    monitor: RecordingMonitor
    logs: list[LogLine] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _MonitorService(resource_pb2_grpc.ResourceMonitorServicer):  # type: ignore[misc]
    def __init__(self, served: _Served) -> None:
        self.served = served

    def _call(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        with self.served.lock:
            try:
                return getattr(self.served.monitor, method)(request)
            except grpc.RpcError as error:  # an invoke the fake fails: the engine's gRPC error
                context.abort(error.code(), error.details())

    def RegisterResource(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._call("RegisterResource", request, context)

    def RegisterResourceOutputs(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._call("RegisterResourceOutputs", request, context)

    def Invoke(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._call("Invoke", request, context)

    def GetDeploymentInfo(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return self._call("GetDeploymentInfo", request, context)

    def SupportsFeature(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        # As Pulumi's mock monitor: no output values, so that the registrations' inputs are plain values.
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id != "outputValues")

    def SignalAndWaitForShutdown(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return empty_pb2.Empty()


class _EngineService(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    def __init__(self, served: _Served) -> None:
        self.served = served

    def Log(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.served.logs.append(LogLine(request.severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=ROOT_URN)

    def SetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


class FakeEngine:
    """The engine's Engine and ResourceMonitor services on 127.0.0.1, for one consumer stack."""

    def __init__(self, azure: FakeAzure) -> None:
        self.served = _Served(_monitor(azure))
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_MonitorService(self.served), self.server)
        engine_pb2_grpc.add_EngineServicer_to_server(_EngineService(self.served), self.server)
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()

    def reset(self, azure: FakeAzure, olds: Mapping[str, StateEntry] | None = None) -> FakeEngine:
        """The next deployment, against `olds` (by default the fake backend's latest state): a fresh monitor and
        log. One plugin process serves every deployment of its engine, as under the Pulumi CLI."""
        with self.served.lock:
            self.served.monitor = _monitor(azure, olds)
            self.served.logs = []
        return self

    def close(self) -> None:
        self.server.stop(grace=None)

    @property
    def registrations(self) -> list[Registration]:
        return self.served.monitor.registrations

    @property
    def logs(self) -> list[LogLine]:
        return self.served.logs

    def warnings(self) -> list[str]:
        return [line.message for line in self.logs if line.severity == engine_pb2.WARNING]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def consumer_provider(self, package: str, name: str, inputs: Mapping[str, Any]) -> str:
        """A provider the consumer's program registered: its reference as the engine passes it on."""
        request = resource_pb2.RegisterResourceRequest(
            type=f"pulumi:providers:{package}",
            name=name,
            parent=ROOT_URN,
            custom=True,
            object=_struct(inputs),
        )
        with self.served.lock:
            response = self.served.monitor.RegisterResource(request)
        return f"{response.urn}::{response.id}"


def _monitor(azure: FakeAzure, olds: Mapping[str, StateEntry] | None = None) -> RecordingMonitor:
    state = olds if olds is not None else azure.backend.latest()
    return RecordingMonitor(azure, olds=state, stack=CONSUMER_STACK, project=CONSUMER_PROJECT)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct: struct_pb2.Struct = _sync_await(rpc.serialize_properties(dict(values), {}))
    return struct


@dataclass
class Plugin:
    process: subprocess.Popen[bytes]
    channel: grpc.Channel
    stub: Any

    def schema(self) -> str:
        return str(self.stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)

    def version(self) -> str:
        return str(self.stub.GetPluginInfo(empty_pb2.Empty()).version)

    def construct(
        self,
        engine: FakeEngine,
        name: str,
        inputs: Mapping[str, Any],
        preview: bool = True,
        providers: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        type_: str = "backline:index:BacklineAccess",
        dependencies: Mapping[str, list[str]] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The engine's Construct for a consumer's `new BacklineAccess(name, inputs)`: the URN and the outputs."""
        request = provider_pb2.ConstructRequest(
            project=CONSUMER_PROJECT,
            stack=CONSUMER_STACK,
            organization="organization",
            config=dict(config or {}),
            dryRun=preview,
            monitorEndpoint=engine.address,
            type=type_,
            name=name,
            parent=ROOT_URN,
            inputs=_struct(inputs),
            providers=dict(providers or {}),
            inputDependencies={
                key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                for key, urns in (dependencies or {}).items()
            },
        )
        response = self.stub.Construct(request, timeout=60)
        return response.urn, dict(rpc.deserialize_properties(response.state, keep_unknowns=True))


@contextmanager
def started_plugin(engine_address: str, cwd: Path, env: Mapping[str, str] | None = None) -> Iterator[Plugin]:
    """The plugin process, as the language host starts it: in the directory `pulumi` runs in (`cwd`, a consumer's
    project, not the plugin's); stopped after, its stderr shown if it printed no port."""
    process = subprocess.Popen(
        [sys.executable, str(PLUGIN_DIR), engine_address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    port = process.stdout.readline().decode().strip()
    if not port.isdigit():
        process.kill()
        _, stderr = process.communicate()
        raise AssertionError(f"the plugin printed no port: {port!r}\n{stderr.decode()}")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Plugin(process, channel, provider_pb2_grpc.ResourceProviderStub(channel))
    finally:
        channel.close()
        process.terminate()
        process.wait(timeout=10)


__all__ = ["CONSUMER_PROJECT", "CONSUMER_STACK", "PLUGIN_DIR", "ROOT_URN", "FakeEngine", "Plugin", "started_plugin"]
