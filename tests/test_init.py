"""`backline-access init` against the fake Azure: the script's flags and messages, prompts on a real
pseudo-terminal, merging into a commented stack file, idempotence, --dry-run, and --from-existing on a tenant
the script onboarded, whose config the program then adopts whole."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from fake_azure import BACKLINE_APP_ID, Assignment, Cluster, FakeAzureServer
from fake_azure import Estate as FakeEstate
from ruamel.yaml import YAML
from test_program_http import ASSIGNMENT, ProviderOfFake
from typer.testing import CliRunner

from backline_access.cli import app
from backline_access.config.source import handed_over_config, load_config
from backline_access.init.flow import Terminal, run_init
from backline_access.init.onboarding import Request
from backline_access.review.offline import run_offline

Serve = Callable[..., FakeAzureServer]
runner = CliRunner()

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "5a1b2c3d-0000-4000-8000-00000000000f"
SUB_A = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SUB_B = "1c2e8f4d-7a1b-4c9e-9d3f-2b8a6e5c4d10"
SP = "99999999-9999-4999-8999-999999999999"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
AKS_WRITER = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
REPO = Path(__file__).resolve().parent.parent


def world(clusters: int = 3) -> FakeEstate:
    return FakeEstate(
        TENANT,
        [SUB_A, SUB_B],
        clusters=[
            Cluster(SUB_A, "rg-prod", f"aks-{index}", azure_rbac=index != 1 or None) for index in range(clusters)
        ],
        service_principals={BACKLINE_APP_ID: SP},
        clients={"onboarder": "s3cret"},
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "infra"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def signed_in(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeAzureServer]:
    def start(estate: FakeEstate, page_size: int = 50) -> FakeAzureServer:
        fake = serve(estate, page_size=page_size)
        monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
        monkeypatch.setenv("ARM_CLIENT_ID", "onboarder")
        monkeypatch.setenv("ARM_CLIENT_SECRET", "s3cret")
        monkeypatch.setenv("ARM_TENANT_ID", TENANT)
        for variable in ("ARM_ENVIRONMENT", "ARM_USE_OIDC", "ARM_SUBSCRIPTION_ID"):
            monkeypatch.delenv(variable, raising=False)
        return fake

    return start


def init(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["init", *args])
    return result.exit_code, result.stdout, result.stderr


def stack_config(path: Path) -> dict[str, object]:
    return dict(YAML(typ="safe").load(path.read_text(encoding="utf-8"))["config"])


# --- flags, with the script's meaning and messages ------------------------------------------------------


def test_the_scripts_flags_write_a_stack_file_that_validates_and_init_ends_with_the_plan_command(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    code, out, err = init(
        "--stack", "prod", "--cloud-sub", SUB_A, "--cloud-sub", SUB_B, "--aks-sub", SUB_A, "--aks-all",
        "--management-group", "platform", "--yes",
    )  # fmt: skip
    assert code == 0, err
    written = project / "Pulumi.prod.yaml"
    assert stack_config(written) == {
        "backline-access:tenantId": TENANT,  # the credentials' tenant: no --tenant given
        "backline-access:subscriptions": [SUB_A, SUB_B],
        "backline-access:managementGroups": ["platform"],
        "backline-access:aks": [{"subscription": SUB_A, "all": True}],
    }
    load_config(handed_over_config(written))
    *_, head, plan, stack_init, preview = out.rstrip().splitlines()
    assert head == "Next:"
    assert plan.endswith(" plan --stack prod    # offline: what pulumi up would grant")  # the command as run
    assert stack_init == "  pulumi stack init prod    # once, if Pulumi does not know the stack yet"
    assert preview == "  pulumi preview --stack prod    # reads Azure, changes nothing"
    assert written.read_text(encoding="utf-8").startswith("# Backline read-only access for one tenant")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cloud-sub", "not-a-guid"], "Error: Invalid GUID format for subscription ID: not-a-guid"),
        (["--aks-sub", "{" + SUB_A + "}", "--aks-all"], "Error: Invalid GUID format for subscription ID: {" + SUB_A),
        (["--cloud-sub", "--aks-all"], "Error: --cloud-sub requires a subscription ID (got the flag '--aks-all')"),
        (["--aks-all"], "Error: --aks-all is used with --aks-sub"),
        (["--tenant", "contoso", "--cloud-sub", SUB_A], "Error: Invalid GUID format for tenant ID: contoso"),
        (["--management-group", "Contoso Prod"], "Error: Invalid management group ID: Contoso Prod is not a valid"),
        ([], "Error: Nothing to do: give --cloud-sub, --aks-sub, --management-group or --from-existing"),
    ],
    ids=["bad guid", "guid in braces", "flag without its value", "aks-all alone", "bad tenant", "bad group", "none"],
)
def test_bad_flags_get_the_scripts_messages_and_exit_2(
    project: Path, signed_in: Callable[..., FakeAzureServer], args: list[str], message: str
) -> None:
    fake = signed_in(world())
    code, _, err = init("--stack", "prod", "--yes", *args)
    assert code == 2
    # The script's words; a flag's missing value is found while the flags are read, so click's usage comes first.
    assert err.startswith(message) or (err.startswith("Usage: ") and f"\n\n{message}" in err), err
    assert fake.calls() == []  # nothing was asked of Azure
    assert not (project / "Pulumi.prod.yaml").exists()


def test_a_flag_at_the_end_without_its_value_is_a_usage_error(project: Path) -> None:
    code, _, err = init("--stack", "prod", "--cloud-sub")
    assert code == 2
    assert err.endswith("\n\nError: --cloud-sub requires a subscription ID (got nothing)\n"), err


def test_without_a_terminal_and_without_aks_all_it_stops_at_once_instead_of_hanging(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    fake = signed_in(world())
    code, _, err = init("--stack", "prod", "--aks-sub", SUB_A, "--yes")
    assert code == 2
    assert "there is no terminal to ask on. Pass --aks-all" in err
    assert fake.calls() == []


def test_without_a_terminal_writing_needs_yes(project: Path, signed_in: Callable[..., FakeAzureServer]) -> None:
    fake = signed_in(world())
    code, _, err = init("--stack", "prod", "--cloud-sub", SUB_A)
    assert code == 2
    assert err.startswith("Error: no terminal to confirm writing the stack file on: pass --yes, or --dry-run")
    assert fake.calls() == []


def test_a_stack_file_of_another_tenant_is_not_touched(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    fake = signed_in(world())
    existing = project / "Pulumi.prod.yaml"
    existing.write_text(f"config:\n  backline-access:tenantId: {OTHER_TENANT}\n", encoding="utf-8")
    terminal, shown = answering()  # asked nothing: the conflict is found before any read or question
    request = Request(aks_subs=[SUB_A])
    assert run_init("prod", TENANT, request, False, True, os.environ, terminal, project) == 2
    assert fake.calls() == [] and not any("Grant" in text for text in shown)
    code, _, err = init("--stack", "prod", "--tenant", TENANT, "--cloud-sub", SUB_A, "--yes")
    assert code == 2  # the credentials are --tenant's; the file is another tenant's
    assert f"backline-access:tenantId: '{OTHER_TENANT}' is {OTHER_TENANT} in Pulumi.prod.yaml, but the tenant " in err
    assert existing.read_text(encoding="utf-8") == f"config:\n  backline-access:tenantId: {OTHER_TENANT}\n"
    code, _, err = init("--stack", "prod", "--cloud-sub", SUB_A, "--yes")
    assert code == 3
    assert f"the credentials belong to tenant {TENANT}, but the stack is for tenant {OTHER_TENANT}" in err


# --- prompts ----------------------------------------------------------------------------------------------


def answering(*answers: str) -> tuple[Terminal, list[str]]:
    """A terminal whose person answers `answers` in turn; what it was shown is collected."""
    shown: list[str] = []
    replies: Iterator[str] = iter(answers)

    class Screen:
        def write(self, text: str) -> int:
            shown.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    screen = Screen()
    return Terminal(True, lambda: next(replies) + "\n", screen, screen), shown  # type: ignore[arg-type]


def test_each_cluster_found_is_asked_for_across_pages_and_only_yes_is_written(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    fake = signed_in(world(clusters=5), page_size=2)
    fake.faults.resource_graph_down = True  # the ARM listing, 2 clusters a page
    terminal, shown = answering("y", "n", "", "yes", "N", "y")
    code = run_init("prod", None, Request(aks_subs=[SUB_A]), False, False, os.environ, terminal, project)
    assert code == 0, "".join(shown)
    text = "".join(shown)
    for index in range(5):
        question = f"Grant AKS RBAC Reader access to 'aks-{index}' (resource group: rg-prod)? [y/N] "
        assert question in text
    assert "aks-1  resource group rg-prod  Azure RBAC OFF (enable it: az aks update" in text
    assert len(fake.calls("GET", "managedClusters")) == 3  # five clusters, two a page
    assert stack_config(project / "Pulumi.prod.yaml")["backline-access:aks"] == [
        {"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": f"aks-{i}"} for i in (0, 3)]}
    ]


def test_prompts_on_a_real_pseudo_terminal(project: Path, signed_in: Callable[..., FakeAzureServer]) -> None:
    signed_in(world(clusters=2))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "backline_access", "init", "--stack", "prod", "--cloud-sub", SUB_A, "--aks-sub", SUB_A],
        cwd=str(project),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        encoding="utf-8",
        timeout=60,
    )
    child.expect_exact("Grant AKS RBAC Reader access to 'aks-0' (resource group: rg-prod)? [y/N] ")
    child.sendline("y")
    child.expect_exact("Grant AKS RBAC Reader access to 'aks-1' (resource group: rg-prod)? [y/N] ")
    child.sendline("n")
    child.expect_exact("Write Pulumi.prod.yaml? [y/N] ")
    child.sendline("y")
    child.expect_exact("Wrote ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert stack_config(project / "Pulumi.prod.yaml")["backline-access:aks"] == [
        {"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": "aks-0"}]}
    ]


# --- merging, idempotence, dry run ---------------------------------------------------------------------

COMMENTED = f"""\
# Our Backline stack. Owner: platform team.
config:
  # the tenant
  backline-access:tenantId: {TENANT}
  azure-native:location: westeurope  # kept as it is
  backline-access:subscriptions:
    - {SUB_B}  # production
  # clusters, reviewed quarterly
  backline-access:aks:
    - subscription: {SUB_A}
      clusters:
        - resourceGroup: rg-prod
          name: aks-0
  # trailing note about the service principal
  backline-access:aksRequireAzureRbac: true
"""


def test_merging_into_a_commented_file_keeps_every_comment_key_and_order(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    existing = project / "Pulumi.prod.yaml"
    existing.write_text(COMMENTED, encoding="utf-8")
    terminal, _ = answering("y", "n")  # aks-0 is in the file already: asked for aks-1 and aks-2 only
    request = Request(cloud_subs=[SUB_A, SUB_B], aks_subs=[SUB_A], management_groups=["platform"])
    assert run_init("prod", None, request, False, True, os.environ, terminal, project) == 0
    after = existing.read_text(encoding="utf-8")
    comments = [line.strip() for line in COMMENTED.splitlines() if "#" in line]
    assert [line.strip() for line in after.splitlines() if "#" in line] == comments
    assert list(stack_config(existing)) == [
        "backline-access:tenantId",
        "azure-native:location",
        "backline-access:subscriptions",
        "backline-access:managementGroups",
        "backline-access:aks",
        "backline-access:aksRequireAzureRbac",
    ]
    assert stack_config(existing)["backline-access:subscriptions"] == [SUB_B, SUB_A]
    assert after.index("# clusters, reviewed quarterly") > after.index("- platform")  # still above aks
    assert after.index("# trailing note") > after.index("name: aks-1")  # still after the last cluster


def test_a_second_run_with_the_same_answers_changes_nothing(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    args = ("--stack", "prod", "--cloud-sub", SUB_A, "--aks-sub", SUB_A, "--aks-all", "--yes")
    assert init(*args)[0] == 0
    written = project / "Pulumi.prod.yaml"
    before, stamp = written.read_bytes(), written.stat().st_mtime_ns
    code, out, _ = init(*args)
    assert code == 0
    assert "Pulumi.prod.yaml already grants all of it: nothing to change." in out
    assert (written.read_bytes(), written.stat().st_mtime_ns) == (before, stamp)


def test_dry_run_prints_the_diff_and_writes_nothing(project: Path, signed_in: Callable[..., FakeAzureServer]) -> None:
    signed_in(world())
    existing = project / "Pulumi.prod.yaml"
    existing.write_text(COMMENTED, encoding="utf-8")
    code, out, _ = init("--stack", "prod", "--cloud-sub", SUB_A, "--dry-run")
    assert code == 0
    assert "--- a/Pulumi.prod.yaml\n+++ b/Pulumi.prod.yaml\n" in out
    assert f"\n+    - {SUB_A}\n" in out
    assert "Dry run: Pulumi.prod.yaml was not written." in out
    assert existing.read_text(encoding="utf-8") == COMMENTED
    assert sorted(p.name for p in project.iterdir()) == ["Pulumi.prod.yaml", "Pulumi.yaml"]  # no temporary left


def test_a_result_that_would_not_validate_is_not_written(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    existing = project / "Pulumi.prod.yaml"
    broken = COMMENTED.replace("aksRequireAzureRbac: true", "aksRequireAzureRbac: sometimes")
    existing.write_text(broken, encoding="utf-8")
    code, _, err = init("--stack", "prod", "--cloud-sub", SUB_A, "--yes")
    assert code == 2
    assert "aksRequireAzureRbac: 'sometimes' must be true or false" in err and "Nothing was written." in err
    assert existing.read_text(encoding="utf-8") == broken


# --- the access Backline already has ------------------------------------------------------------------------


def script_onboarded(fake: FakeAzureServer) -> None:
    """The bash script's assignments (random names, /resourcegroups/), a group Reader, and two that are no grant
    of ours: AKS RBAC Writer on a cluster and Reader with a condition."""
    prod = fake.estate.clusters[0]
    group_scope = "/providers/Microsoft.Management/managementGroups/platform"
    fake.estate.management_groups = {"platform": [SUB_B]}

    def role(scope: str, guid: str) -> str:
        prefix = f"/subscriptions/{scope.split('/')[2]}" if scope.startswith("/subscriptions/") else ""
        return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}"

    for index, (scope, guid) in enumerate(
        [
            (f"/subscriptions/{SUB_A}", READER),
            (prod.id.replace("/resourceGroups/", "/resourcegroups/"), AKS_READER),
            (group_scope, READER),
            (fake.estate.clusters[2].id, AKS_WRITER),
        ]
    ):
        fake.estate.assignments.append(
            Assignment(f"1a2b3c4d-0000-4000-8000-00000000000{index}", scope, role(scope, guid), SP)
        )
    fake.estate.assignments.append(
        Assignment(
            "1a2b3c4d-0000-4000-8000-00000000000f", f"/subscriptions/{SUB_B}", role(f"/subscriptions/{SUB_B}", READER),
            SP, condition="@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'x'",
        )
    )  # fmt: skip


def test_from_existing_writes_the_config_that_the_program_then_adopts_whole(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    fake = signed_in(world())
    script_onboarded(fake)
    code, out, err = init("--stack", "prod", "--from-existing", "--yes")
    assert code == 0, err
    written = project / "Pulumi.prod.yaml"
    assert stack_config(written) == {
        "backline-access:tenantId": TENANT,
        "backline-access:subscriptions": [SUB_A],
        "backline-access:managementGroups": ["platform"],
        "backline-access:aks": [{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": "aks-0"}]}],
    }
    assert "has 3 assignment(s) to take over in the 2 subscription(s) these credentials see" in out
    left = [line for line in out.splitlines() if "not taken over" in line]
    assert len(left) == 2
    assert any(f"role {AKS_WRITER} at {fake.estate.clusters[2].id}" in line for line in left)
    assert any(f"Reader with a condition at /subscriptions/{SUB_B}" in line for line in left)
    # The first pulumi up on that config adopts every assignment and creates none.
    handed_over = handed_over_config(written)
    run = run_offline(handed_over, azure=ProviderOfFake(fake), preview=True)
    assignments = run.of_type(ASSIGNMENT)
    assert len(assignments) == 3
    assert all(a.import_id for a in assignments), [a.name for a in assignments if not a.import_id]


def test_from_existing_adds_to_the_other_flags(project: Path, signed_in: Callable[..., FakeAzureServer]) -> None:
    fake = signed_in(world())
    script_onboarded(fake)
    code, _, err = init("--stack", "prod", "--from-existing", "--cloud-sub", SUB_B, "--yes")
    assert code == 0, err
    assert stack_config(project / "Pulumi.prod.yaml")["backline-access:subscriptions"] == [SUB_B, SUB_A]


def test_from_existing_when_a_listing_is_forbidden_writes_nothing(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    fake = signed_in(world())
    script_onboarded(fake)
    group = "/providers/Microsoft.Management/managementGroups/platform"
    fake.forbid(group)
    code, _, err = init("--stack", "prod", "--from-existing", "--management-group", "platform", "--yes")
    assert code == 1
    assert f"{group}: HTTP 403 AuthorizationFailed" in err
    assert not (project / "Pulumi.prod.yaml").exists()


def test_the_written_file_is_what_json_tools_see_too(project: Path, signed_in: Callable[..., FakeAzureServer]) -> None:
    signed_in(world())
    assert init("--stack", "prod", "--cloud-sub", SUB_A, "--yes")[0] == 0
    handed_over = handed_over_config(project / "Pulumi.prod.yaml")
    assert json.loads(handed_over["backline-access:subscriptions"]) == [SUB_A]


def test_a_stack_file_powershell_wrote_as_utf16_is_named_with_the_fix(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    existing = project / "Pulumi.prod.yaml"
    existing.write_bytes(COMMENTED.encode("utf-16"))
    code, _, err = init("--stack", "prod", "--cloud-sub", SUB_A, "--yes")
    assert code == 2
    assert "is encoded as UTF-16" in err and "Nothing was written." in err


# --- stack files of every shape ---------------------------------------------------------------------------


def merged_into(project: Path, text: str | bytes, *args: str) -> str:
    existing = project / "Pulumi.prod.yaml"
    if isinstance(text, bytes):
        existing.write_bytes(text)
    else:
        existing.write_text(text, encoding="utf-8")
    code, out, err = init("--stack", "prod", "--yes", *args)
    assert code == 0, out + err
    load_config(handed_over_config(existing))
    return existing.read_bytes().decode("utf-8")


def test_a_file_with_no_block_list_gets_lists_in_the_example_style(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    text = f"config:\n  azure-native:location: westeurope\n  backline-access:tenantId: {TENANT}\n"
    text += "  backline-access:aks: []\n"
    after = merged_into(project, text, "--aks-sub", SUB_A, "--aks-all", "--cloud-sub", SUB_A)
    assert f"  backline-access:aks:\n    - subscription: {SUB_A}\n      all: true\n" in after


def test_flow_lists_and_values_pulumi_config_set_stored_as_json_are_added_to(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    text = (
        f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: [{SUB_B}]\n"
        f"  backline-access:managementGroups: '[\"platform\"]'\n"
    )
    after = merged_into(
        project, text, "--cloud-sub", SUB_A, "--management-group", "Platform", "--management-group", "eu"
    )
    config = YAML(typ="safe").load(after)["config"]
    assert config["backline-access:subscriptions"] == [SUB_B, SUB_A]
    assert config["backline-access:managementGroups"] == ["platform", "eu"]  # Platform is platform


def test_switching_to_aks_all_keeps_the_comment_below_the_clusters(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    after = merged_into(project, COMMENTED, "--aks-sub", SUB_A, "--aks-all")
    assert "name: aks-0" not in after
    assert after.index("all: true") < after.index("# trailing note") < after.index("aksRequireAzureRbac")


def test_comments_only_crlf_and_a_document_marker_survive(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    after = merged_into(project, "# to be filled in by init\n# reviewed by: security\n", "--cloud-sub", SUB_A)
    assert after.startswith("# to be filled in by init\n# reviewed by: security\n")
    crlf = ("---\n" + COMMENTED).replace("\n", "\r\n").encode("utf-8")
    after = merged_into(project, crlf, "--cloud-sub", SUB_A)
    assert after.startswith("---\r\n# Our Backline stack.") and "\n" not in after.replace("\r\n", "")
    before_lines = crlf.decode("utf-8").split("\r\n")
    assert [line for line in after.split("\r\n") if line not in before_lines] == [f"    - {SUB_A}"]


def test_from_existing_with_nothing_to_take_over_writes_nothing_and_says_so(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())  # Backline's principal exists but has no assignment
    code, out, err = init("--stack", "prod", "--from-existing", "--yes")
    assert code == 1
    assert "has 0 assignment(s) to take over" in out
    assert "--from-existing found no access of Backline's to take over" in err
    assert not (project / "Pulumi.prod.yaml").exists()


def test_a_subscription_the_credentials_do_not_see_is_written_with_a_warning(
    project: Path, signed_in: Callable[..., FakeAzureServer]
) -> None:
    signed_in(world())
    unseen = "3e4a0b6f-9c3d-4ebf-9f5b-4d0c8a7e6f32"
    code, out, _ = init("--stack", "prod", "--cloud-sub", SUB_A, "--cloud-sub", unseen, "--yes")
    assert code == 0
    assert f"Warning: --cloud-sub {unseen} is not among the 2 subscription(s) these credentials see" in out
    assert f"--cloud-sub {SUB_A} is not" not in out
    assert stack_config(project / "Pulumi.prod.yaml")["backline-access:subscriptions"] == [SUB_A, unseen]


def test_an_unknown_cloud_is_named_like_pulumi_up_names_it_before_any_sign_in(
    project: Path, signed_in: Callable[..., FakeAzureServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = signed_in(world())
    monkeypatch.delenv("ARM_METADATA_HOSTNAME")
    monkeypatch.setenv("ARM_ENVIRONMENT", "mars")
    code, _, err = init("--stack", "prod", "--cloud-sub", SUB_A, "--yes")
    assert code == 2
    assert "ARM_ENVIRONMENT: names the cloud 'mars', which is none of public, usgovernment, china" in err
    assert fake.calls() == []


def test_the_next_steps_name_the_command_as_the_person_runs_it(tmp_path: Path) -> None:
    from backline_access.init.flow import invoked_as

    program = tmp_path / ".venv" / "bin" / "backline-access"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    assert invoked_as(str(program), tmp_path) == ".venv/bin/backline-access"  # not on PATH: its path
    assert invoked_as(str(tmp_path / "pkg" / "__main__.py"), tmp_path) == "python -m backline_access"
