"""Shared helpers: real YAML stack files, the program under Pulumi's mock engine, reference data."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from fake_azure import Estate as FakeEstate
from fake_azure import FakeAzureServer

from backline_access.azure import AssignmentInventory, AzureFailure, ClusterInfo, ClusterState, RoleAssignmentInfo
from backline_access.config.identifiers import ClusterId
from backline_access.config.source import handed_over_config
from backline_access.review.offline import FakeAzure, InProcessReads, OfflineRun, PulumiBackend, run_offline

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference"

TENANT = "00000000-0000-0000-0000-000000000000"
SUB_A = "11111111-1111-1111-1111-111111111111"
SUB_B = "22222222-2222-2222-2222-222222222222"
SP_OBJECT_ID = "99999999-9999-4999-8999-999999999999"

# Two subscriptions with Reader, one cluster with AKS RBAC Reader: the stack most tests start from.
ONE_CLUSTER_STACK = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters: [{{resourceGroup: rg-prod, name: aks-prod}}]
"""


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not present at {REFERENCE} (only in the project's workspace)")
    return REFERENCE


@pytest.fixture
def stack_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(yaml_text: str) -> Path:
        path = tmp_path / "Pulumi.test.yaml"
        path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_stack(stack_file: Callable[[str], Path]) -> Callable[..., OfflineRun]:
    """Run the real program on a YAML stack file, config handed over as the Pulumi CLI does."""

    def run(yaml_text: str, azure: FakeAzure | None = None) -> OfflineRun:
        return run_offline(handed_over_config(stack_file(yaml_text)), azure=azure or Estate())

    return run


class Estate(FakeAzure, InProcessReads):
    """A small Azure estate for tests, answered in-process: the tenant of the credentials, which clusters exist
    (as ARM returns them: `{"properties": {"aadProfile": ...}}`, or the aadProfile alone), which subscriptions'
    listings fail, and whether Backline's service principal exists."""

    def __init__(
        self,
        credential_tenant: str = TENANT,
        clusters: dict[str, dict[str, object] | None] | None = None,
        service_principal: str | None = None,
        unreadable: dict[str, AzureFailure] | None = None,
        assignments: list[RoleAssignmentInfo] | None = None,
        backend: PulumiBackend | None = None,
    ) -> None:
        FakeAzure.__init__(self)
        InProcessReads.__init__(self)
        self.backend = backend or self.backend
        self.assignments = assignments or []
        self.credential_tenant = credential_tenant
        self.clusters = clusters
        self.service_principal = service_principal
        self.unreadable = unreadable or {}

    def created_object_id(self) -> str:
        return SP_OBJECT_ID

    def answer_client_config(self, provider: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
        return {"tenantId": self.credential_tenant, "subscriptionId": provider.get("subscriptionId")}

    def read_clusters(self, clusters: Sequence[ClusterId]) -> list[ClusterState]:
        InProcessReads.read_clusters(self, clusters)
        return [self._state(cluster) for cluster in clusters]

    def _state(self, cluster: ClusterId) -> ClusterState:
        if cluster.name in self.unreadable:
            return ClusterState(cluster, failure=self.unreadable[cluster.name])
        if self.clusters is None:
            return ClusterState(cluster, found=ClusterInfo(cluster, azure_rbac=True))
        if cluster.name not in self.clusters:
            return ClusterState(cluster)
        body = self.clusters[cluster.name] or {}
        properties = body.get("properties", body)
        profile = properties.get("aadProfile") if isinstance(properties, dict) else None
        enabled = isinstance(profile, dict) and profile.get("enableAzureRBAC") is True
        return ClusterState(cluster, found=ClusterInfo(cluster, azure_rbac=enabled))

    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory:
        InProcessReads.role_assignments(self, principal_id, scopes)
        wanted = sorted(set(scopes))
        return AssignmentInventory({s: [a for a in self.assignments if a.scope.lower().startswith(s)] for s in wanted})

    def answer_service_principal(self, args: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
        if self.service_principal is None:
            return super().answer_service_principal(args)
        return {
            "objectId": self.service_principal,
            "clientId": args.get("clientId"),
            "accountEnabled": False,
            "appRoleAssignmentRequired": True,
            "tags": ["customer-tag"],
        }


def warnings_besides_placeholders(run: OfflineRun) -> list[str]:
    """The test ids (all zeros, all ones) draw the example-placeholder warning; most tests look past it."""
    return [warning for warning in run.warnings if "placeholder ids" not in warning]


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeAzureServer]]:
    """Start a fake Azure on 127.0.0.1 over HTTPS for an estate; clients trust its CA through the usual
    variables (REQUESTS_CA_BUNDLE, SSL_CERT_FILE), never through a switch in our code."""
    started: list[FakeAzureServer] = []

    def start(estate: FakeEstate, page_size: int = 50) -> FakeAzureServer:
        ca_file = tmp_path / f"fake-azure-ca-{len(started)}.pem"
        server = FakeAzureServer(estate, ca_file, page_size=page_size).__enter__()
        started.append(server)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
