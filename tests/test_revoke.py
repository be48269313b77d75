"""`backline-access revoke` against the fake Azure: every assignment of Backline's principal the caller can see, in a
script that deletes exactly those ids and nothing else, made with reads only."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from fake_azure import Assignment, Cluster, FakeAzureServer
from fake_azure import Estate as FakeEstate
from test_verification import SP, SUB_A, SUB_B, TENANT
from typer.testing import CliRunner

from backline_access.azure import AssignmentInventory, RoleDefinitionInfo
from backline_access.azure.reads import assignment_info
from backline_access.cli import app
from backline_access.config import AKS_RBAC_READER, BACKLINE_APP_ID, READER, parse_config
from backline_access.revoke import find_revocation, render_script

Serve = Callable[..., FakeAzureServer]
runner = CliRunner()
SUB_C = "3e4f0b6f-9c3d-4ebf-9f5b-4dac8e7f6e32"  # not in the stack config
OTHER = "88888888-8888-4888-8888-888888888888"  # someone else's principal
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
GROUP = "mg-platform"
PROD = Cluster(SUB_A, "rg-prod", "aks-prod")

STACK = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}]
  backline-access:managementGroups: [{GROUP}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters:
        - {{resourceGroup: rg-prod, name: aks-prod}}
"""


def role(guid: str) -> str:
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


BACKLINES = [
    Assignment("r-a", f"/subscriptions/{SUB_A}", role(READER.guid), SP),  # in the config
    Assignment("k-prod", PROD.id, role(AKS_RBAC_READER.guid), SP),  # in the config
    Assignment("r-mg", f"/providers/Microsoft.Management/managementGroups/{GROUP}", role(READER.guid), SP),  # config
    Assignment("r-rg-b", f"/subscriptions/{SUB_B}/resourceGroups/rg-data", role(READER.guid), SP),  # by hand
    Assignment("c-c", f"/subscriptions/{SUB_C}/resourceGroups/rg-ops", role(CONTRIBUTOR), SP),  # another role
    # at a group only the list of management groups leads to
    Assignment("r-mg2", "/providers/Microsoft.Management/managementGroups/mg-sandbox", role(READER.guid), SP),
    Assignment(
        "k-old",
        f"/subscriptions/{SUB_B}/resourceGroups/rg-k/providers/Microsoft.ContainerService/managedClusters/old",
        role(AKS_RBAC_READER.guid),
        SP,
    ),
]
OTHERS = [
    Assignment("o-a", f"/subscriptions/{SUB_A}", role(READER.guid), OTHER),
    Assignment("o-mg", f"/providers/Microsoft.Management/managementGroups/{GROUP}", role(CONTRIBUTOR), OTHER),
]


def world(with_principal: bool = True) -> FakeEstate:
    return FakeEstate(
        TENANT,
        [SUB_A, SUB_B, SUB_C],
        management_groups={GROUP: [SUB_C], "mg-sandbox": []},
        clusters=[PROD],
        service_principals={BACKLINE_APP_ID: SP} if with_principal else {},
        assignments=[*BACKLINES, *OTHERS],
        clients={"security": "s3cret"},
    )


@pytest.fixture
def signed_in_to(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeAzureServer]:
    def start(estate: FakeEstate, secret: str = "s3cret") -> FakeAzureServer:
        fake = serve(estate)
        monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
        monkeypatch.setenv("ARM_CLIENT_ID", "security")
        monkeypatch.setenv("ARM_CLIENT_SECRET", secret)
        monkeypatch.delenv("ARM_ENVIRONMENT", raising=False)
        return fake

    return start


def revoke(stack_file: Callable[[str], Path], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["revoke", "--config", str(stack_file(STACK)), *args])
    return result.exit_code, result.stdout, result.stderr


def deleted_by(script: str, tmp_path: Path) -> list[str]:
    """Run the script with a fake `az` first on PATH that logs its arguments: what it would have deleted."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "az.log"
    az = bin_dir / "az"
    az.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> {log}\n')
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    path = tmp_path / "revoke.sh"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(path)], check=True, env=env, capture_output=True)
    calls = log.read_text().splitlines() if log.exists() else []
    # the fake's cloud is not the public one: az is pointed at it first, as every az line of the project does
    assert calls[:1] == ["cloud set --name FakeAzure"], calls
    calls = calls[1:]
    assert all(call.startswith("role assignment delete --ids ") for call in calls), calls
    return sorted(call.removeprefix("role assignment delete --ids ") for call in calls)


def test_the_script_deletes_every_assignment_of_backlines_and_no_one_elses(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path], tmp_path: Path
) -> None:
    fake = signed_in_to(world())
    code, script, err = revoke(stack_file)
    assert code == 0, err
    assert script.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in script
    assert deleted_by(script, tmp_path) == sorted(a.id for a in BACKLINES)
    assert not any(a.name in script for a in OTHERS if f"/{a.name}" in script)
    assert OTHER not in script
    assert f"\n# az ad sp delete --id {SP}\n" in script  # the principal's deletion is there, commented
    assert "# Reader at /subscriptions/" + SUB_A + " (in the stack config)" in script
    assert f"# Contributor at /subscriptions/{SUB_C}/resourceGroups/rg-ops (not in the stack config)" in script
    # the caller is named, for a script that outlives the run
    assert "# Found by backline-access revoke " in script and " signed in as app security (object id " in script
    # reads only: every request to Resource Manager and Graph is a GET (the token endpoint's POST is sign-in)
    methods = {r.method for r in fake.requests if not r.path.endswith("/oauth2/v2.0/token")}
    assert methods == {"GET"}
    assert fake.calls("GET", "/providers/Microsoft.Management/managementGroups")


def test_json_lists_the_same_assignments(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(world())
    code, out, _ = revoke(stack_file, "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["servicePrincipalObjectId"] == SP and document["complete"] is True
    listed = {item["id"]: item for item in document["assignments"]}
    assert sorted(listed) == sorted(a.id for a in BACKLINES)
    assert listed[BACKLINES[0].id]["inStackConfig"] is True
    assert listed[BACKLINES[3].id]["inStackConfig"] is False
    assert listed[BACKLINES[4].id]["role"] == "Contributor"
    assert document["notRead"] == []


def test_a_scope_of_the_config_it_cannot_read_makes_the_script_say_it_is_incomplete_and_exit_1(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path], tmp_path: Path
) -> None:
    fake = signed_in_to(world())
    fake.forbid(f"/subscriptions/{SUB_A}")
    code, script, err = revoke(stack_file)
    assert code == 1
    assert "# NOT COMPLETE" in script
    assert f"#   the role assignments at /subscriptions/{SUB_A}: HTTP 403 AuthorizationFailed" in script
    assert "some listings could not be read" in err
    # what could be read is still removed; what is below the unreadable subscription is not in it
    found = deleted_by(script, tmp_path)
    assert BACKLINES[3].id in found and BACKLINES[0].id not in found and BACKLINES[1].id not in found


def test_no_service_principal_means_nothing_to_remove(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path], tmp_path: Path
) -> None:
    signed_in_to(world(with_principal=False))
    code, script, _ = revoke(stack_file)
    assert code == 0
    assert "has no service principal in tenant" in script
    assert deleted_by(script, tmp_path) == []


def test_refused_credentials_exit_3_with_the_fix(
    signed_in_to: Callable[..., FakeAzureServer], stack_file: Callable[[str], Path]
) -> None:
    signed_in_to(world(), secret="wrong")
    code, out, err = revoke(stack_file)
    assert code == 3 and out == ""
    assert "Error: cannot sign in" in err and "fix:" in err


class ListingThatIgnoresItsFilter:
    """Reads whose role assignment listing returns every principal's (as a listing without `$filter` would): the
    script must still hold Backline's only."""

    def service_principal(self, app_id: str) -> str | None:
        return SP

    def subscriptions(self) -> list[str]:
        return [SUB_A]

    def management_groups(self) -> list[str]:
        return []

    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory:
        everyone = [assignment_info(a.arm()) for a in (BACKLINES[0], *OTHERS)]
        return AssignmentInventory({scope: everyone for scope in scopes})

    def role_definition(self, role_definition_id: str) -> RoleDefinitionInfo:
        raise AssertionError("only Backline's roles are named")


def test_another_principals_assignment_is_never_in_the_script_even_if_a_listing_returns_it() -> None:
    access = parse_config({"tenantId": TENANT, "subscriptions": [SUB_A]})
    revocation = find_revocation(access, ListingThatIgnoresItsFilter())
    assert [found.assignment.id for found in revocation.assignments] == [BACKLINES[0].id]
    script = render_script(revocation, "", "a test")
    assert OTHER not in script and "o-a" not in script
