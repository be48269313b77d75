"""`backline-access verify` against the fake Azure: exit codes, formats, waiting, and what a person sees."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fake_azure import FakeAzureServer
from test_verification import SP as SP_ID
from test_verification import SUB_A, SUB_B, TENANT, onboarded
from typer.testing import CliRunner

from backline_access.cli import app

Serve = Callable[..., FakeAzureServer]
runner = CliRunner()

STACK = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters:
        - {{resourceGroup: rg-prod, name: aks-prod}}
        - {{resourceGroup: rg-prod, name: aks-legacy}}
"""


@pytest.fixture
def signed_in_to(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeAzureServer]:
    def start(world: object, client: str = "verifier", secret: str = "s3cret") -> FakeAzureServer:
        fake = serve(world)
        monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
        monkeypatch.setenv("ARM_CLIENT_ID", client)
        monkeypatch.setenv("ARM_CLIENT_SECRET", secret)
        monkeypatch.delenv("ARM_ENVIRONMENT", raising=False)
        return fake

    return start


STATUS_WORDS = ("PASS", "PENDING", "FAIL", "UNKNOWN", "WARN")


def results(out: str) -> list[tuple[str, str, str]]:
    """(status, check, scope) of each block of verify's text output: the status and check on one line, the scope
    indented on the next."""
    lines = out.splitlines()
    return [
        (line.split()[0], " ".join(line.split()[1:]), lines[index + 1].strip())
        for index, line in enumerate(lines)
        if line.split()[:1] and line.split()[0] in STATUS_WORDS and not line.startswith(" ")
    ]


def flat(text: str) -> str:
    """Text with its wrapping undone (every run of whitespace one space)."""
    return " ".join(text.split())


def verify(stack_file: Callable[[str], Path], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["verify", "--config", str(stack_file(STACK)), *args])
    return result.exit_code, result.stdout, result.stderr


def test_all_pass_exits_0_with_a_table(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(onboarded())
    code, out, _ = verify(stack_file, "--wait", "0")
    assert code == 0, out
    assert flat(out).startswith(f"Backline access checks: stack {stack_file(STACK)}, tenant {TENANT} ")
    assert len(results(out)) == 12 and {status for status, _, _ in results(out)} == {"PASS", "WARN"}
    assert out.rstrip().endswith("all checks pass, with warnings: 11 pass, 0 pending, 0 fail, 0 unknown, 1 warn")


def test_a_failure_exits_1_with_the_fix_and_the_query_to_see_it(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]
    signed_in_to(world)
    code, out, _ = verify(stack_file, "--wait", "0")
    assert code == 1
    assert [r for r in results(out) if r[0] == "FAIL"] == [("FAIL", "Reader", f"/subscriptions/{SUB_B}")]
    fix = "az role assignment create --assignee 3fc75f55-e53f-4950-9127-665106cded58 --role Reader"
    assert f"fix: az cloud set --name FakeAzure && {fix} --scope /subscriptions/{SUB_B}" in flat(out)
    assert "see it:" in out and '--query "[].roleDefinitionName" -o tsv' in out


def test_json_is_the_documented_document(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(onboarded(legacy_rbac=False))
    code, out, _ = verify(stack_file, "--wait", "0", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == 1 and document["ok"] is False
    assert {tuple(sorted(c)) for c in document["checks"]} == {("check", "evidence", "fix", "scope", "status")}
    [failing] = [c for c in document["checks"] if c["status"] not in ("pass", "warn")]
    assert failing["check"] == "Azure RBAC for Kubernetes"


def test_junit_parses_with_one_case_per_check(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    fake = signed_in_to(onboarded())
    fake.forbid(f"/subscriptions/{SUB_B}")
    code, out, _ = verify(stack_file, "--wait", "0", "--format", "junit")
    assert code == 1
    suite = ElementTree.fromstring(out.encode()).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert (
        len(cases) == int(suite.get("tests", "0")) == 12
    )  # 8 access checks, 1 least privilege in Azure, 3 in Entra ID
    assert suite.get("errors") == "2" and suite.get("failures") == "0"
    errors = [(case.get("classname"), case.get("name")) for case in cases if case.find("error") is not None]
    # What SUB_B holds cannot be read, so neither can what else Backline holds there: unknown, never pass.
    assert errors == [("Reader", f"/subscriptions/{SUB_B}"), ("least privilege", "Azure role assignments")]


def test_waiting_outlasts_propagation_with_progress_lines_for_ci(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    next(a for a in world.assignments if a.name == "r-b").visible_after_reads = 2
    signed_in_to(world)
    code, out, err = verify(stack_file, "--wait", "5")
    assert code == 0, out
    assert "verify: 1 of 12 checks not passing yet;" in err


def test_the_same_propagation_without_waiting_fails(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    next(a for a in world.assignments if a.name == "r-b").visible_after_reads = 2
    signed_in_to(world)
    assert verify(stack_file, "--wait", "0")[0] == 1


def test_429_and_503_storms_are_waited_out(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    fake = signed_in_to(onboarded())
    fake.throttle("roleAssignments", times=4, retry_after="0")
    fake.fail("ResourceGraph", status=503, times=2)
    code, out, _ = verify(stack_file, "--wait", "0")
    assert code == 0, out


def test_credentials_that_cannot_sign_in_exit_3(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(onboarded(), secret="wrong")
    code, out, _ = verify(stack_file, "--wait", "0")
    assert code == 3
    assert results(out)[0][:2] == ("UNKNOWN", "tenant")
    assert "AADSTS7000215" in out
    assert f"az login --tenant {TENANT}" in flat(out)


def test_invalid_config_exits_2(stack_file: Callable[[str], Path]) -> None:
    path = stack_file("config:\n  backline-access:tenantId: nope\n")
    result = runner.invoke(app, ["verify", "--config", str(path)])
    assert result.exit_code == 2
    assert "tenantId: 'nope' is not a GUID" in result.stderr


def test_verify_changes_nothing_in_azure(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    fake = signed_in_to(onboarded())
    verify(stack_file, "--wait", "0")
    assert {r.method for r in fake.requests} <= {"GET", "POST"}
    assert {r.path for r in fake.requests if r.method == "POST"} <= {
        "/providers/Microsoft.ResourceGraph/resources",
        f"/{TENANT}/oauth2/v2.0/token",
    }


def test_on_a_terminal_the_wait_is_a_live_view_of_what_is_pending() -> None:
    import io

    from backline_access.verify.checks import Check
    from backline_access.verify.report import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen)
    progress([Check("Reader", f"/subscriptions/{SUB_B}", "fail", "not yet"), Check("tenant", TENANT, "pass", "ok")], 42)
    progress.close()
    shown = screen.getvalue()
    assert "1 of 2 checks not passing yet; 42 s left to wait" in shown
    assert f"subscription {SUB_B}" in shown
    assert "verify:" not in shown  # the plain progress lines are for logs only


def test_all_true_clusters_are_verified_as_azure_has_them_now(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(onboarded())
    text = STACK.replace(
        """      clusters:
        - {resourceGroup: rg-prod, name: aks-prod}
        - {resourceGroup: rg-prod, name: aks-legacy}""",
        "      all: true",
    )
    result = runner.invoke(app, ["verify", "--config", str(stack_file(text)), "--wait", "0", "--format", "json"])
    assert result.exit_code == 0, result.stdout
    scopes = {c["scope"] for c in json.loads(result.stdout)["checks"] if c["check"] == "Azure RBAC for Kubernetes"}
    assert {scope.rsplit("/", 1)[-1] for scope in scopes} == {"aks-prod", "aks-legacy"}


def test_an_unknown_cloud_exits_2_with_the_providers_message(
    stack_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "mars")
    monkeypatch.delenv("ARM_METADATA_HOSTNAME", raising=False)
    code, _, stderr = verify(stack_file, "--wait", "0")
    assert code == 2
    assert "ARM_ENVIRONMENT: names the cloud 'mars', which is none of public, usgovernment, china" in stderr


WITH_GROUP = "  backline-access:managementGroups: [platform]\n  backline-access:aks:"


def test_a_management_group_reader_is_checked_at_the_group_and_covers_the_subscriptions_below(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    world.management_groups = {"platform": [SUB_B]}
    group = "/providers/Microsoft.Management/managementGroups/platform"
    # SUB_B's own Reader is gone; the group's covers it
    [own] = [a for a in world.assignments if a.name == "r-b"]
    own.scope, own.name = group, "r-group"
    own.role_definition_id = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    signed_in_to(world)
    text = STACK.replace("  backline-access:aks:", WITH_GROUP)
    result = runner.invoke(app, ["verify", "--config", str(stack_file(text)), "--wait", "0", "--format", "json"])
    assert result.exit_code == 0, result.stdout
    readers = {c["scope"]: c["evidence"] for c in json.loads(result.stdout)["checks"] if c["check"] == "Reader"}
    assert readers[group] == "assignment r-group at this scope"
    assert readers[f"/subscriptions/{SUB_B}"] == f"inherited from {group} (assignment r-group)"


def test_a_group_only_config_is_verified_with_service_principal_credentials(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID", raising=False)
    world = onboarded()
    world.management_groups = {"platform": [SUB_A, SUB_B]}
    signed_in_to(world)  # ARM_CLIENT_ID and a secret: azure-native would need a subscription; verify does not
    text = f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:managementGroups: [platform]\n"
    result = runner.invoke(app, ["verify", "--config", str(stack_file(text)), "--wait", "0", "--format", "json"])
    assert result.exit_code == 1, result.stdout + result.stderr  # the group's Reader is missing: a failed check
    [reader] = [c for c in json.loads(result.stdout)["checks"] if c["check"] == "Reader"]
    assert reader["status"] == "fail"


def test_a_missing_group_reader_fails_with_the_command_that_grants_it(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    world = onboarded()
    world.management_groups = {"platform": [SUB_B]}
    signed_in_to(world)
    text = STACK.replace("  backline-access:aks:", WITH_GROUP)
    result = runner.invoke(app, ["verify", "--config", str(stack_file(text)), "--wait", "0"])
    assert result.exit_code == 1
    group = "/providers/Microsoft.Management/managementGroups/platform"
    assert [r for r in results(result.stdout) if r[0] == "FAIL"] == [("FAIL", "Reader", group)]
    assert f"--role Reader --scope {group}" in flat(result.stdout)


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Each `##` section's table rows (cells as text), parsed by markdown-it as GitHub would render them."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    sections: dict[str, list[list[str]]] = {}
    row: list[str] = []
    section, in_body, in_heading = "", False, False
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "inline" and in_heading:
            section, in_heading = token.content, False
        elif token.type == "tbody_open":
            in_body = True
        elif token.type == "tbody_close":
            in_body = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and in_body:
            row.append("".join(child.content for child in token.children or []))
        elif token.type == "tr_close" and in_body:
            sections.setdefault(section, []).append(row)
    return sections


def _without_ids(evidence: str) -> str:
    """Evidence without Azure's request ids, which differ from one run to the next."""
    return re.sub(r" \((?:x-ms-correlation-)?request-id: [^)]*\)", "", evidence)


def test_markdown_is_an_attestation_that_agrees_with_the_json(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    fake = signed_in_to(onboarded())
    fake.faults.graph_forbidden.append("/owners")
    code, markdown, _ = verify(stack_file, "--wait", "0", "--format", "markdown")
    _, document, _ = verify(stack_file, "--wait", "0", "--format", "json")
    assert code == 1  # the owners could not be read: unknown
    tables = _tables(markdown)
    header = dict(tables["Backline access attestation"])
    assert header["Tenant"] == TENANT and header["Date (UTC)"].startswith("20")
    assert header["Verified by"].startswith("app verifier (object id ")  # the token's appid and oid
    assert header["Result"] == "not everything passes: 10 pass, 0 pending, 0 fail, 1 unknown, 1 warn"
    least = tables["Least privilege: what else Backline holds, in Azure and in Entra ID"]
    rows = [(s, c, scope, _without_ids(e)) for s, c, scope, e, _ in tables["Access Backline needs"] + least]
    checks = json.loads(document)["checks"]
    assert rows == [(c["status"].upper(), c["check"], c["scope"], _without_ids(c["evidence"])) for c in checks]
    assert f"- `service principal {SP_ID}: owners` (least privilege): Microsoft Graph did not answer" in markdown
    assert "## Scopes checked" in markdown and f"- `/subscriptions/{SUB_B}`" in markdown
