"""`backline-access plan` and `schema`: what a person or a review bot sees, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, SUB_A, TENANT
from typer.testing import CliRunner

from backline_access.cli import app

runner = CliRunner()
CLUSTER_PREFIX = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups"
CLUSTERS = f"{CLUSTER_PREFIX}/rg-prod/providers/Microsoft.ContainerService/managedClusters"


def test_plan_of_the_example_stack_lists_every_grant_and_marks_checks_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["plan", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    out = result.output
    flat = " ".join(out.split())
    assert out.startswith("Offline plan of stack dev, tenant 00000000-0000-0000-0000-000000000000\n")
    assert "subscription 11111111-1111-1111-1111-111111111111: Reader, AKS RBAC Reader on 2 clusters" in flat
    assert "  subscription 22222222-2222-2222-2222-222222222222: Reader\n" in out
    grants = out.split("\nGrants:\n")[1].split("\n\n")[0].splitlines()
    heads = [line.strip() for line in grants if line.startswith("  ") and not line.startswith("    ")]
    assert heads == [
        "Reader on subscription 11111111-1111-1111-1111-111111111111: create",
        "Reader on subscription 22222222-2222-2222-2222-222222222222: create",
        "AKS RBAC Reader on cluster aks-prod: create",
        "AKS RBAC Reader on cluster aks-staging: create",
    ]
    assert "    resource group rg-prod, subscription 11111111-1111-1111-1111-111111111111\n" in out
    assert "acdd72a7-3385-48ef-bd42-f606fba81ae7" in out
    assert "ensure: create if missing, adopt unchanged if present" in flat
    assert "Not checked offline (pulumi preview checks these against Azure):" in out
    assert "? tenant guard: the credentials belong to tenant 00000000-0000-0000-0000-000000000000" in flat
    assert "? AKS preflight: cluster rg-prod/aks-prod exists and has Azure RBAC for Kubernetes enabled" in flat
    assert "passed" not in out.lower()
    assert "subscriptionIds: 11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222" in flat
    # No command with a placeholder that cannot be run.
    assert "--assignee <" not in out
    assert "verificationCommands: 6 az commands, runnable once the service principal's object id is known" in flat


def test_plan_of_the_example_stack_says_its_ids_are_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["plan", "--stack", "dev", "--format", "json"])
    assert result.exit_code == 0
    [warning] = [w for w in json.loads(result.stdout)["warnings"] if "placeholder" in w]
    assert warning.startswith(
        "00000000-0000-0000-0000-000000000000, 11111111-1111-1111-1111-111111111111, "
        "22222222-2222-2222-2222-222222222222: placeholder ids like the example stack's"
    )


def test_plan_of_real_looking_ids_has_no_placeholder_warning(stack_file: Callable[[str], Path]) -> None:
    path = stack_file("""
    config:
      backline-access:tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
      backline-access:subscriptions: [0b1f6471-1bf0-4dda-aec3-cb9272f09590]
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == []


def test_plan_json_is_one_document_with_the_documented_keys(stack_file: Callable[[str], Path]) -> None:
    path = stack_file(f"""
    config:
      backline-access:tenantId: {TENANT}
      backline-access:subscriptions: [{SUB_A}]
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"tenantId", "applicationId", "servicePrincipal", "assignments", "warnings", "outputs"} <= set(document)
    assert document["assignments"] == [
        {
            "action": "create",
            "importId": None,
            "role": "Reader",
            "roleDefinitionId": f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/"
            "acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "scope": f"/subscriptions/{SUB_A}",
            "reach": None,
            "principalType": "ServicePrincipal",
            "name": "f40834e3-2d96-5052-a205-767dc17e41fd",
            "resourceName": f"backline-reader-{SUB_A}",
        }
    ]
    assert document["servicePrincipal"]["mode"] == "ensure"
    assert all(check["status"] == "not checked offline" for check in document["checks"])
    assert document["outputs"]["subscriptionIds"] == SUB_A


def test_plan_shows_config_warnings(stack_file: Callable[[str], Path]) -> None:
    path = stack_file(f"""
    config:
      backline-access:tenantId: {TENANT}
      backline-access:aks:
        - subscription: {SUB_A}
          clusters: [{{resourceGroup: rg, name: aks}}]
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    [warning] = [w for w in json.loads(result.stdout)["warnings"] if "placeholder" not in w]
    assert warning.startswith(f"aks[0].subscription: {SUB_A} gets no Reader")


def test_invalid_config_exits_2_with_messages_on_stderr_and_no_traceback(
    stack_file: Callable[[str], Path],
) -> None:
    path = stack_file("""
    config:
      backline-access:tenantId: "{00000000-0000-0000-0000-000000000000}"
      backline-access:subscriptions: [not-a-guid]
    """)
    done = subprocess.run(
        [sys.executable, "-m", "backline_access", "plan", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Invalid backline-access stack config (2 problems):" in done.stderr
    assert "tenantId: '{00000000-0000-0000-0000-000000000000}' has braces" in done.stderr
    assert 'fix: az account list --query "[].id" -o tsv' in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_works_for_a_stack_that_only_looks_up_the_service_principal(stack_file: Callable[[str], Path]) -> None:
    path = stack_file(f"""
    config:
      backline-access:tenantId: {TENANT}
      backline-access:subscriptions: [{SUB_A}]
      backline-access:servicePrincipal: {{mode: existing}}
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (
        document["servicePrincipal"]["action"]
        == "look up only; imported into the stack, never created, changed or deleted"
    )
    assert document["servicePrincipal"]["managedByStack"] is True
    assert {
        "check": f"service principal lookup: app 3fc75f55-e53f-4950-9127-665106cded58 in tenant {TENANT}",
        "status": "not checked offline",
    } in document["checks"]


def test_a_yaml_date_where_a_guid_belongs_is_a_config_error(stack_file: Callable[[str], Path]) -> None:
    path = stack_file("""
    config:
      backline-access:tenantId: 2024-01-01
      backline-access:subscriptions: [2024-01-02]
    """)
    result = runner.invoke(app, ["plan", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "tenantId: '2024-01-01' is not a GUID" in result.stderr
    assert "subscriptions[0]: '2024-01-02' is not a GUID" in result.stderr


def test_missing_stack_file_exits_2_and_says_which_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--config", str(tmp_path / "Pulumi.nope.yaml")])
    assert result.exit_code == 2
    assert "Pulumi.nope.yaml: cannot be read" in result.stderr


def test_plan_outside_a_project_says_how_to_point_at_a_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "--stack", "prod"])
    assert result.exit_code == 2
    assert "needs a Pulumi.yaml" in result.stderr and "--config" in result.stderr


def test_schema_command_prints_the_shipped_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    shipped = json.loads((REPO / "backline_access" / "stack-config.schema.json").read_text())
    assert json.loads(result.stdout) == shipped


def test_plan_stays_offline_even_when_a_custom_cloud_is_configured(
    stack_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", "unreachable.invalid")
    path = stack_file(f"""
    config:
      backline-access:tenantId: {TENANT}
      backline-access:subscriptions: [{SUB_A}]
      backline-access:aks:
        - subscription: {SUB_A}
          clusters: [{{resourceGroup: rg, name: aks}}]
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs["adminConsentUrl"].startswith(f"<login endpoint of unreachable.invalid>/{TENANT}/adminconsent")


def test_the_offline_plan_says_all_true_clusters_are_resolved_at_deploy_time(stack_file: Callable[[str], Path]) -> None:
    path = stack_file(f"""
    config:
      backline-access:tenantId: {TENANT}
      backline-access:subscriptions: [{SUB_A}]
      backline-access:aks:
        - {{subscription: {SUB_A}, all: true}}
    """)
    result = runner.invoke(app, ["plan", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {
        "check": f"every AKS cluster of subscription {SUB_A}: read at deploy time (all: true resolves them; a grant "
        "above clusters has each checked for Azure RBAC)",
        "status": "not checked offline",
    } in document["checks"]
    assert [a["role"] for a in document["assignments"]] == ["Reader"]
