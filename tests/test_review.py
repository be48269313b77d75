"""`backline-access plan --format markdown` (a pull-request comment) and `--format az` (for auditors)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ONE_CLUSTER_STACK, REPO, SUB_A, TENANT
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from backline_access.cli import app
from backline_access.review.formats import DIAGRAM_CLUSTERS, DIAGRAM_SUBSCRIPTIONS, mermaid_lines

runner = CliRunner()
NODE_TOOLS = REPO / "tests" / "node_tools"
CLUSTERS = "Microsoft.ContainerService/managedClusters"


def mermaid_parses(diagram: str) -> str:
    """mermaid's own parser (tests/node_tools, installed by .ci/run with npm ci)."""
    if shutil.which("node") is None or not (NODE_TOOLS / "node_modules" / "mermaid").is_dir():
        pytest.skip("mermaid's parser is not installed: npm ci --prefix tests/node_tools")
    done = subprocess.run(
        ["node", str(NODE_TOOLS / "mermaid-parse.mjs")],
        input=diagram,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def plan_of(stack_file: Callable[[str], Path], text: str, output_format: str) -> str:
    result = runner.invoke(app, ["plan", "--config", str(stack_file(text)), "--format", output_format])
    assert result.exit_code == 0, result.output
    return result.stdout


def stack(subscriptions: int, clusters: int) -> str:
    subs = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(1, subscriptions + 1)]
    per = [
        {
            "subscription": subs[0],
            "clusters": [{"resourceGroup": f"rg-{j}", "name": f"aks-{j}"} for j in range(clusters)],
        }
    ]
    return (
        f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: {json.dumps(subs)}\n"
        f"  backline-access:aks: {json.dumps(per) if clusters else '[]'}\n"
    )


EXAMPLE = ONE_CLUSTER_STACK


def test_the_markdown_is_a_summary_a_table_and_a_mermaid_diagram_that_parse(stack_file: Callable[[str], Path]) -> None:
    markdown = plan_of(stack_file, EXAMPLE, "markdown")
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    assert [t.type for t in tokens if t.type in ("table_open", "fence")] == ["table_open", "fence"]
    cells = [t.content for t in tokens if t.type == "inline"]
    assert "Role" in cells and "AKS RBAC Reader" in cells
    assert "**2 subscription(s), 1 listed cluster(s): 3 role assignment(s)**" in markdown
    assert "adopted: 0 (not checked offline)" in markdown
    [fence] = [t for t in tokens if t.type == "fence"]
    assert fence.info == "mermaid"
    assert mermaid_parses(fence.content) == "flowchart-v2"
    assert f'sp -->|Reader| s0["Subscription {SUB_A}"]' in fence.content
    assert 's0 -->|AKS RBAC Reader| s0c0["aks-prod<br/>rg-prod"]' in fence.content


def test_large_estates_collapse_the_diagram_and_it_still_parses(stack_file: Callable[[str], Path]) -> None:
    many_clusters = plan_of(stack_file, stack(2, DIAGRAM_CLUSTERS + 1), "markdown")
    assert f'["{DIAGRAM_CLUSTERS + 1} clusters"]' in many_clusters
    many_subscriptions = plan_of(stack_file, stack(DIAGRAM_SUBSCRIPTIONS + 1, 3), "markdown")
    diagram = many_subscriptions.split("```mermaid\n")[1].split("```")[0]
    assert diagram.count("\n") == 4  # tenant, principal, all subscriptions, all clusters
    assert f'subs["{DIAGRAM_SUBSCRIPTIONS + 1} subscriptions"]' in diagram
    assert mermaid_parses(diagram) == "flowchart-v2"


def test_a_subscription_with_clusters_but_no_reader_shows_as_such() -> None:
    document = {
        "tenantId": TENANT,
        "assignments": [
            {
                "role": "Azure Kubernetes Service RBAC Reader",
                "scope": f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/{CLUSTERS}/a",
            }
        ],
    }
    lines = mermaid_lines(document)
    assert f'  sp -.->|no Reader| s0["Subscription {SUB_A}"]' in lines


def test_az_format_gives_one_command_per_grant_with_role_guids(stack_file: Callable[[str], Path]) -> None:
    commands = [line for line in plan_of(stack_file, EXAMPLE, "az").splitlines() if line.startswith("az ")]
    assert commands[0] == f"az login --tenant {TENANT}"
    assert commands[1].startswith("az ad sp show --id 3fc75f55-e53f-4950-9127-665106cded58")
    grants = [c for c in commands if c.startswith("az role assignment create")]
    assert len(grants) == 3
    assert grants[0] == (
        "az role assignment create --assignee 3fc75f55-e53f-4950-9127-665106cded58 --role "
        f"acdd72a7-3385-48ef-bd42-f606fba81ae7 --scope /subscriptions/{SUB_A} "
        "--name f40834e3-2d96-5052-a205-767dc17e41fd"
    )


def test_az_format_with_a_known_object_id_assigns_by_object_id(stack_file: Callable[[str], Path]) -> None:
    object_id = "66666666-6666-4666-8666-666666666666"
    text = EXAMPLE + f"  backline-access:servicePrincipal: {{objectId: {object_id}}}\n"
    commands = plan_of(stack_file, text, "az")
    assert "az ad sp create" not in commands
    assert f"--assignee-object-id {object_id} --assignee-principal-type ServicePrincipal" in commands


GROUPED = (
    f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: [{SUB_A}]\n"
    "  backline-access:managementGroups: [platform]\n"
)


def test_a_management_group_shows_in_the_summary_the_table_and_a_diagram_that_parses(
    stack_file: Callable[[str], Path],
) -> None:
    markdown = plan_of(stack_file, GROUPED, "markdown")
    assert "(Reader on 1 subscription(s), Reader on 1 management group(s), AKS RBAC Reader on 0 cluster(s))" in markdown
    assert "| Reader | `/providers/Microsoft.Management/managementGroups/platform` |" in markdown
    diagram = markdown.split("```mermaid\n")[1].split("```")[0]
    assert 'sp -->|Reader| g0["Management group platform<br/>every subscription below"]' in diagram
    assert mermaid_parses(diagram) == "flowchart-v2"


def test_the_text_plan_names_the_group_and_what_is_resolved_at_deploy_time(stack_file: Callable[[str], Path]) -> None:
    text = plan_of(stack_file, GROUPED, "text")
    assert "management group platform: Reader (every subscription below it, present and future)" in " ".join(
        text.split()
    )
    assert f"  subscription {SUB_A}: Reader" in text
    assert "every subscription below management group platform (for subscriptionIds): resolved at deploy time" in (
        " ".join(text.split())
    )
    commands = plan_of(stack_file, GROUPED, "az")
    assert (
        "--role acdd72a7-3385-48ef-bd42-f606fba81ae7 --scope /providers/Microsoft.Management/managementGroups/platform"
        in commands
    )


def test_the_text_plan_says_subscription_ids_grow_with_the_groups_at_deploy_time(
    stack_file: Callable[[str], Path],
) -> None:
    text = " ".join(plan_of(stack_file, GROUPED, "text").split())
    assert (
        f"subscriptionIds: {SUB_A}, and every subscription below the management groups (resolved at deploy time)"
        in text
    )
    assert "managementGroupAssignments: 1 assignment id(s), one per grant above" in text


def test_offline_with_groups_an_unlisted_aks_subscription_is_flagged_as_known_at_preview(
    stack_file: Callable[[str], Path],
) -> None:
    text = plan_of(
        stack_file,
        f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:managementGroups: [platform]\n"
        f"  backline-access:aks:\n    - subscription: {SUB_A}\n      clusters: [{{resourceGroup: rg, name: aks}}]\n",
        "text",
    )
    text = " ".join(text.split())
    assert (
        f"aks[0].subscription: {SUB_A} is not in 'subscriptions': unless one of managementGroups covers it "
        "(pulumi preview checks), it gets no Reader: AKS RBAC Reader alone" in text
    )
    assert "subscriptionIds: every subscription below the management groups (resolved at deploy time)" in text
