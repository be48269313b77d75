"""Shared helpers: real YAML stack files, the program under Pulumi's mock engine, reference data."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from backline_access.config_source import handed_over_config
from backline_access.offline import FakeAzure, OfflineRun, run_offline

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference"

TENANT = "00000000-0000-0000-0000-000000000000"
SUB_A = "11111111-1111-1111-1111-111111111111"
SUB_B = "22222222-2222-2222-2222-222222222222"
SP_OBJECT_ID = "99999999-9999-4999-8999-999999999999"


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


class Estate(FakeAzure):
    """A small Azure estate for tests: the tenant of the credentials, which clusters exist (and with
    which aadProfile), and whether Backline's service principal exists."""

    def __init__(
        self,
        credential_tenant: str = TENANT,
        clusters: dict[str, dict[str, object] | None] | None = None,
        service_principal: str | None = None,
        unreadable: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.credential_tenant = credential_tenant
        self.clusters = clusters
        self.service_principal = service_principal
        self.unreadable = unreadable or {}

    def created_object_id(self) -> str:
        return SP_OBJECT_ID

    def answer_client_config(self, provider: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
        return {"tenantId": self.credential_tenant, "subscriptionId": provider.get("subscriptionId")}

    def answer_cluster(self, subscription_id: str, args: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
        from backline_access.offline import AzureError

        name = str(args["resourceName"])
        if name in self.unreadable:
            raise AzureError(self.unreadable[name])
        if self.clusters is None:
            return super().answer_cluster(subscription_id, args)
        if name not in self.clusters:
            raise AzureError(
                f'Status=404 Code="ResourceNotFound" Message="The Resource '
                f"'Microsoft.ContainerService/managedClusters/{name}' was not found.\""
            )
        return self.clusters[name] or {}

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
