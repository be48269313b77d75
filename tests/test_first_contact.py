"""A newcomer's first contact: stack names as Pulumi takes them, CLI basics, what each format shows of all: true,
output that reads at 80 columns and fits a pull-request comment, Ctrl-C in verify, and init without Azure."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fake_azure import FakeAzureServer
from test_review import mermaid_parses
from test_verification import SUB_A, SUB_B, TENANT, onboarded
from test_verify_cli import STACK, flat, results
from typer.testing import CliRunner

from backline_access.cli import app
from backline_access.review.formats import MARKDOWN_LIMIT, render_markdown
from backline_access.verify import report as verify_report

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()
Serve = Callable[..., FakeAzureServer]

ALL_TRUE = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - subscription: {SUB_A}
      all: true
      exclude:
        - {{resourceGroup: rg-prod, name: aks-legacy}}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- stack names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "myorg/dev", "myorg/backline-access/dev"])
def test_a_stack_is_named_as_pulumi_names_it(monkeypatch: pytest.MonkeyPatch, stack: str) -> None:
    """pkg/backend/httpstate/backend.go parseStackName: stack, owner/stack, owner/project/stack; the file is
    Pulumi.<stack>.yaml by the last part (sdk/go/common/workspace/paths.go ProjectStackPath)."""
    monkeypatch.chdir(REPO)
    code, out, err = run("plan", "--stack", stack)
    assert code == 0, err
    assert flat(out).startswith(f"Offline plan of stack {stack}, tenant 00000000-0000-0000-0000-000000000000 ")


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("myorg/other/dev", "names project 'other', but"),
        ("a/b/c/d", "has more than three parts"),
        ("my stack", "has ' '; a stack name may only contain letters, digits, '-', '_' and '.'"),
        ("myorg//dev", "has an empty part"),
        ("x" * 101, "has a part over 100 characters"),
    ],
)
def test_a_stack_name_pulumi_refuses_is_refused_first(
    monkeypatch: pytest.MonkeyPatch, stack: str, message: str
) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run("plan", "--stack", stack)
    assert code == 2 and out == ""
    assert err.startswith("Invalid stack name") or err.startswith("No such stack"), err
    assert message in err
    assert "Traceback" not in err


def test_init_checks_the_stack_name_before_reading_azure(project: Path, serve: Serve) -> None:
    fake = serve(onboarded())
    code, _, err = run("init", "--stack", "org/another-project/prod", "--tenant", TENANT, "--cloud-sub", SUB_A)
    assert code == 2
    assert "names project 'another-project'" in err and "Nothing was written." in err
    assert fake.calls() == []


def test_init_with_an_org_writes_the_stacks_own_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_credentials(monkeypatch, project)
    code, out, err = run("init", "--stack", "myorg/prod", "--tenant", TENANT, "--cloud-sub", SUB_A, "--yes")
    assert code == 0, err
    assert (project / "Pulumi.prod.yaml").is_file()
    assert "plan --stack myorg/prod    # offline: what pulumi up would grant" in out
    assert "  pulumi stack init myorg/prod    # once, if Pulumi does not know the stack yet" in out


def test_stack_and_config_together_is_a_usage_error(project: Path) -> None:
    (project / "Pulumi.dev.yaml").write_text(f"config:\n  backline-access:tenantId: {TENANT}\n", encoding="utf-8")
    code, _, err = run("plan", "--stack", "dev", "--config", "Pulumi.dev.yaml")
    assert code == 2
    assert "--stack: 'dev' and --config Pulumi.dev.yaml name two stack files; give one of them" in err


def test_without_stack_the_only_stack_is_used_and_several_are_listed(project: Path) -> None:
    config = f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: [{SUB_A}]\n"
    (project / "Pulumi.prod.yaml").write_text(config, encoding="utf-8")
    code, out, _ = run("plan")
    assert code == 0 and out.startswith("Offline plan of stack prod, ")
    (project / "Pulumi.staging.yaml").write_text(config, encoding="utf-8")
    for command in ("plan", "verify"):
        code, _, err = run(command)
        assert code == 2
        assert "has 2 stacks (prod, staging)" in err and f"fix: backline-access {command} --stack prod" in err


def test_a_missing_stack_names_the_command_that_was_run(project: Path) -> None:
    (project / "Pulumi.prod.yaml").write_text(f"config:\n  backline-access:tenantId: {TENANT}\n", encoding="utf-8")
    code, _, err = run("verify", "--stack", "prd")
    assert code == 2
    assert "has no stack file Pulumi.prd.yaml" in err and "fix: backline-access verify --stack prod" in err


# --- CLI basics -------------------------------------------------------------------------------------------------


def test_version_and_short_help() -> None:
    from importlib.metadata import version

    code, out, _ = run("--version")
    assert code == 0 and out == f"backline-access {version('backline-access')}\n"
    code, out, _ = run("-h")
    assert code == 0
    commands = out.split("Commands:\n")[1].split()
    assert {"plan", "verify", "init", "schema"} <= set(commands)
    assert "╭" not in out  # plain click help, readable in a CI log


def test_help_paragraphs_are_wrapped_by_click_not_by_the_source() -> None:
    code, out, _ = run("init", "-h")
    assert code == 0
    assert "from the bash script's flags, answers per cluster, or the access Backline already has" in flat(out)
    assert "<list[str]>" not in out and "--cloud-sub ID" in out


def test_a_bad_format_is_answered_with_the_formats() -> None:
    code, _, err = run("plan", "--format", "yaml")
    assert code == 2
    assert "'yaml' is not a format; the formats: text, json, markdown, az" in err


@pytest.mark.parametrize("wait", ["nan", "-1", "86401", "inf"])
def test_wait_is_bounded(project: Path, wait: str) -> None:
    (project / "Pulumi.dev.yaml").write_text(f"config:\n  backline-access:tenantId: {TENANT}\n", encoding="utf-8")
    code, _, err = run("verify", "--wait", wait)
    assert code == 2
    assert "--wait:" in err and "must be a number of seconds from 0 to 86400 (a day)" in err


# --- what the plan shows of all: true ---------------------------------------------------------------------------


def test_all_true_and_exclude_show_in_every_format(stack_file: Callable[[str], Path]) -> None:
    path = str(stack_file(ALL_TRUE))
    outputs = {fmt: run("plan", "--config", path, "--format", fmt)[1] for fmt in ("text", "markdown", "az", "json")}
    words = "every AKS cluster (resolved at deploy time), except rg-prod/aks-legacy"
    assert f"subscription {SUB_A}: Reader, AKS RBAC Reader on {words}" in flat(outputs["text"])
    assert "on every AKS cluster of 1 subscription(s) (all: true, resolved at deploy time)" in outputs["markdown"]
    assert (
        f"every AKS cluster of `/subscriptions/{SUB_A}` (resolved at deploy time), except `rg-prod/aks-legacy`"
        in (outputs["markdown"])
    )
    diagram = outputs["markdown"].split("```mermaid\n")[1].split("```")[0]
    assert "every AKS cluster<br/>resolved at deploy time<br/>except rg-prod/aks-legacy" in diagram
    assert mermaid_parses(diagram) == "flowchart-v2"
    assert f'ids=$(az aks list --subscription {SUB_A} --query "[].id" -o tsv)\nfor id in $ids; do' in outputs["az"]
    assert 'aks-legacy") continue ;; esac' in outputs["az"]
    assert json.loads(outputs["json"])["everyCluster"] == [
        {
            "subscription": SUB_A,
            "role": "Azure Kubernetes Service RBAC Reader",
            "exclude": [f"/subscriptions/{SUB_A}/resourcegroups/rg-prod/providers/Microsoft.ContainerService"
                        "/managedClusters/aks-legacy".replace("resourcegroups", "resourceGroups")],
        }
    ]  # fmt: skip
    if shutil.which("bash"):
        syntax = subprocess.run(["bash", "-n"], input=outputs["az"], text=True, capture_output=True, check=False)
        assert syntax.returncode == 0, syntax.stderr


def test_the_markdown_of_10000_subscriptions_fits_a_pull_request_comment(stack_file: Callable[[str], Path]) -> None:
    """GitHub refuses comments over 65,536 characters. The document is the real plan's, widened to 10,000
    subscriptions with two clusters each (running the program at that size takes minutes)."""
    document = json.loads(run("plan", "--config", str(stack_file(ALL_TRUE)), "--format", "json")[1])
    reader = document["assignments"][0]
    template_cluster = {**reader, "role": "Azure Kubernetes Service RBAC Reader"}
    wide = copy.deepcopy(document)
    wide["assignments"] = []
    for index in range(10_000):
        subscription = f"{index:08x}-0000-4000-8000-000000000000"
        wide["assignments"].append({**reader, "scope": f"/subscriptions/{subscription}"})
        for name in ("aks-a", "aks-b"):
            cluster = f"/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.ContainerService"
            wide["assignments"].append({**template_cluster, "scope": f"{cluster}/managedClusters/{name}"})
    markdown = render_markdown(wide)
    assert len(markdown) < MARKDOWN_LIMIT
    assert "**10001 subscription(s), 20000 listed cluster(s): 30000 role assignment(s)**" in markdown
    assert "<details>" in markdown and "backline-access plan --format json" in markdown
    assert "more subscriptions: see the full plan" in markdown
    diagram = markdown.split("```mermaid\n")[1].split("```")[0]
    assert mermaid_parses(diagram) == "flowchart-v2"
    small = render_markdown(document)
    assert "<details>" not in small  # a plan that fits keeps its whole table


# --- 80 columns -------------------------------------------------------------------------------------------------


def _too_wide(text: str) -> list[str]:
    """Lines over 80 columns that are not one unbreakable word (an id, a URL) or a command to copy whole."""
    return [
        line
        for line in text.splitlines()
        if len(line) > 80 and len(line.split()) > 1 and not line.strip().startswith(("az ", "see it: az "))
    ]


def test_the_plan_reads_at_80_columns(stack_file: Callable[[str], Path]) -> None:
    text = run("plan", "--config", str(stack_file(ALL_TRUE)))[1]
    assert _too_wide(text) == []
    grants = [line for line in text.splitlines() if line.startswith("  AKS RBAC Reader")]
    assert grants and all(" on cluster " in g or " on every AKS cluster of subscription" in g for g in grants)


def test_verify_reads_at_80_columns_and_names_each_cluster(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]
    fake = serve(world)
    _signed_in(monkeypatch, fake)
    code, out, _ = run("verify", "--config", str(stack_file(STACK)), "--wait", "0")
    assert code == 1
    assert _too_wide(out) == []
    assert ("FAIL", "Reader", f"/subscriptions/{SUB_B}") in results(out)
    assert verify_report._where(world.clusters[0].id).startswith("aks-prod (resource group rg-prod, subscription ")


# --- Ctrl-C and report files ------------------------------------------------------------------------------------


def test_ctrl_c_while_waiting_reports_the_last_round_marked_interrupted_and_exits_130(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, stack_file: Callable[[str], Path], tmp_path: Path
) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]  # a grant that might still propagate
    _signed_in(monkeypatch, serve(world))
    original = verify_report.Progress.__call__

    def interrupted(self: verify_report.Progress, checks: list[verify_report.Check], left: float) -> None:
        original(self, checks, left)
        raise KeyboardInterrupt  # Ctrl-C while waiting for the next round

    monkeypatch.setattr(verify_report.Progress, "__call__", interrupted)
    report = tmp_path / "backline-verify.xml"
    code, _, _ = run("verify", "--config", str(stack_file(STACK)), "--wait", "600", "--format", "junit", "--output",
                     str(report))  # fmt: skip
    assert code == 130
    suite = ElementTree.fromstring(report.read_text(encoding="utf-8")).find("testsuite")
    assert suite is not None and suite.get("name", "").endswith("(interrupted)")
    assert report.read_text(encoding="utf-8").endswith("\n")
    code, out, _ = run("verify", "--config", str(stack_file(STACK)), "--wait", "600")
    assert code == 130 and "INTERRUPTED (Ctrl-C)" in out and out.rstrip().splitlines()[-1].startswith("interrupted:")


def test_a_report_file_is_replaced_whole_and_junit_ends_with_a_newline(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, stack_file: Callable[[str], Path], tmp_path: Path
) -> None:
    _signed_in(monkeypatch, serve(onboarded()))
    report = tmp_path / "report.xml"
    report.write_text("old", encoding="utf-8")
    code, out, _ = run("verify", "--config", str(stack_file(STACK)), "--wait", "0", "--format", "junit", "--output",
                       str(report))  # fmt: skip
    assert code == 0 and out == ""
    assert report.read_text(encoding="utf-8").startswith("<?xml") and report.read_text(encoding="utf-8").endswith(
        "</testsuites>\n"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.xml.")] == []  # no temporary left


# --- not found is not a missing grant ----------------------------------------------------------------------------


def test_a_cluster_or_group_that_does_not_exist_says_not_found_with_the_listing(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, stack_file: Callable[[str], Path]
) -> None:
    _signed_in(monkeypatch, serve(onboarded()))
    text = STACK.replace("name: aks-legacy}", "name: aks-legacyy}") + "  backline-access:managementGroups: [platfrom]\n"
    code, out, _ = run("verify", "--config", str(stack_file(text)), "--wait", "600")
    assert code == 1
    flat_out = flat(out)
    assert "not found: no cluster aks-legacyy in resource group rg-prod (a typo, or a display name" in flat_out
    assert (
        f'az aks list --subscription {SUB_A} --query "[].{{name:name, resourceGroup:resourceGroup, id:id}}"' in flat_out
    )
    assert (
        "not found: Azure has no management group platfrom (a typo, or a display name instead of the id?)" in flat_out
    )
    assert "az account management-group list" in flat_out
    assert (
        "az role assignment create --assignee 3fc75f55-e53f-4950-9127-665106cded58 --role "
        not in flat_out.split("aks-legacyy")[1].split("PASS")[0]
    )


# --- init without Azure -------------------------------------------------------------------------------------------


def _no_credentials(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """No ARM_* credentials and no Azure CLI on PATH: azure-identity has nothing to sign in with."""
    for variable in [v for v in os.environ if v.startswith("ARM_")]:
        monkeypatch.delenv(variable)
    empty = folder / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


def _signed_in(monkeypatch: pytest.MonkeyPatch, fake: FakeAzureServer) -> None:
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
    monkeypatch.setenv("ARM_CLIENT_ID", "verifier")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "s3cret")
    monkeypatch.delenv("ARM_ENVIRONMENT", raising=False)


def test_init_from_flags_alone_works_without_credentials_and_says_what_it_did_not_check(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(monkeypatch, project)
    code, out, err = run(
        "init", "--stack", "prod", "--tenant", TENANT, "--cloud-sub", SUB_A, "--management-group", "platform", "--yes"
    )
    assert code == 0, err
    assert "Azure was not read (cannot sign in" in out
    assert (
        f"Not checked (Azure was not read): that these exist and the credentials see them: --cloud-sub {SUB_A}, "
        "--management-group platform" in flat(out)
    )
    assert (project / "Pulumi.prod.yaml").is_file()
    code, _, err = run("init", "--stack", "other", "--tenant", TENANT, "--aks-sub", SUB_A, "--yes")
    assert code == 2 or code == 3  # listing clusters needs Azure: no file from guesses
    assert not (project / "Pulumi.other.yaml").exists()


def test_init_warns_about_groups_and_aks_subscriptions_the_credentials_cannot_see(
    project: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = onboarded()
    world.clients = {"onboarder": "s3cret"}
    fake = serve(world)
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
    monkeypatch.setenv("ARM_CLIENT_ID", "onboarder")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("ARM_TENANT_ID", TENANT)
    unseen = "9e9e9e9e-0000-4000-8000-000000000009"
    code, out, err = run(
        "init", "--stack", "prod", "--cloud-sub", SUB_B, "--aks-sub", unseen, "--aks-all", "--management-group",
        "platfrom", "--yes",
    )  # fmt: skip
    assert code == 0, err
    text = flat(out)
    assert f"Warning: --aks-sub {unseen} is not among the 2 subscription(s) these credentials see" in text
    assert "Warning: --management-group platfrom cannot be read with these credentials: not found" in text
    assert f"Warning: aks[0].subscription: {unseen} is not in 'subscriptions'" in text


def test_azure_identitys_own_log_line_is_not_printed_before_ours(
    serve: Serve, stack_file: Callable[[str], Path]
) -> None:
    fake = serve(onboarded())
    environ = {
        **os.environ,
        "ARM_METADATA_HOSTNAME": fake.host,
        "ARM_CLIENT_ID": "verifier",
        "ARM_CLIENT_SECRET": "wrong",
    }
    environ.pop("ARM_ENVIRONMENT", None)
    done = subprocess.run(
        [sys.executable, "-m", "backline_access", "verify", "--config", str(stack_file(STACK)), "--wait", "0"],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "get_token failed" not in done.stderr and "WARNING" not in done.stderr
    assert "AADSTS7000215" in done.stdout + done.stderr


# --- the README and the docs ----------------------------------------------------------------------------------------


DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[path.name for path in DOCUMENTS])
def test_every_backline_access_command_and_flag_the_docs_show_exists(document: Path) -> None:
    """The README's From-zero steps and every example of the README and of each docs page: a command or flag that
    does not exist fails here."""
    import re

    import typer

    group = typer.main.get_command(app)
    text = document.read_text(encoding="utf-8")
    if document.name == "README.md":
        from_zero = text.split("## From zero")[1].split("\n## ")[0]
        steps = ("pulumi login", "pulumi stack init", "az login --tenant", "pulumi up")
        assert all(step in from_zero for step in steps)
    calls = re.findall(r"backline-access (\w+)((?: +--?[\w-]+(?: +(?!--)[^\s`|&>#]+)?)*)", text)
    for command, arguments in calls:
        if command not in getattr(group, "commands", {}):
            assert command in ("access", "is", "on", "does"), f"backline-access {command} is no command"
            continue
        known = {option for param in group.commands[command].params for option in param.opts} | {"-h"}  # type: ignore[attr-defined]
        used = set(re.findall(r"(?:^|\s)(--?[\w-]+)", arguments))
        assert used <= known, f"backline-access {command}: {used - known}"


# --- small messages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions:\n",
            "subscriptions: is empty",
        ),
        (f"config:\n\tbackline-access:tenantId: {TENANT}\n", ":2: has a tab; YAML forbids tabs for indentation"),
        (
            f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:aks:\n    - subscription: {SUB_A}\n"
            f"      clusters: ['https://portal.azure.com/#@contoso.onmicrosoft.com/resource/subscriptions/{SUB_A}"
            "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1/overview']\n",
            f"is a portal URL, not a resource id; the id it contains is /subscriptions/{SUB_A}/resourceGroups/rg/",
        ),
    ],
    ids=["empty list", "tab", "portal URL"],
)
def test_small_mistakes_get_plain_messages(stack_file: Callable[[str], Path], text: str, expected: str) -> None:
    code, _, err = run("plan", "--config", str(stack_file(text)))
    assert code == 2
    assert expected in err and "'None'" not in err and "Traceback" not in err


def test_the_tenant_id_listed_as_a_subscription_is_a_warning(stack_file: Callable[[str], Path]) -> None:
    text = f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: [{SUB_A}, {TENANT}]\n"
    code, out, _ = run("plan", "--config", str(stack_file(text)), "--format", "json")
    assert code == 0
    assert [w for w in json.loads(out)["warnings"] if "is the tenant id" in w] == [
        f"subscriptions[1]: {TENANT} is the tenant id, not a subscription's (a copy slip?); the subscriptions: "
        'az account list --query "[].id" -o tsv'
    ]
