"""First contact, round 2, through the installed `backline-access` command: answers instead of tracebacks, the
whole plan said, one honest cause per problem, and one client on the wire."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_azure import FakeAzureServer
from test_first_contact import ALL_TRUE
from test_verification import SUB_A, SUB_B, TENANT, onboarded
from test_verify_cli import STACK, flat

COMMAND = str(Path(sys.executable).parent / "backline-access")
REPO = Path(__file__).resolve().parent.parent
Serve = Callable[..., FakeAzureServer]


def command(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env or dict(os.environ), cwd=cwd, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def no_traceback(*texts: str) -> bool:
    return all("Traceback" not in text for text in texts)


@pytest.fixture
def stack(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "Pulumi.prod.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# --- answers, never tracebacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subcommand", ["plan", "verify"])
@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("missing/report.txt", "cannot be written: the folder {folder}/missing does not exist"),
        (".", "is a folder, not a file"),
        ("/proc/backline-report.txt", "cannot be written: no file can be made in /proc"),
    ],
    ids=["missing-folder", "a-folder", "no-file-can-be-made"],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    stack: Callable[[str], Path], tmp_path: Path, subcommand: str, target: str, why: str
) -> None:
    path = stack(STACK)
    output = target if target.startswith("/") else str(tmp_path / target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}  # verify could not even sign in
    code, out, err = command(subcommand, "--config", str(path), "--output", output, env=env)
    assert code == 2, err
    assert f"--output: '{output}' {why.format(folder=tmp_path)}" in err
    assert "fix: give a file in a folder that exists" in err
    assert out == "" and no_traceback(err)


def test_a_gzip_or_binary_file_as_config_is_called_not_text_and_nothing_is_suggested_over_it(
    tmp_path: Path,
) -> None:
    packed = tmp_path / "Pulumi.prod.yaml.gz"
    packed.write_bytes(gzip.compress(STACK.encode()))
    code, _, err = command("plan", "--config", str(packed))
    assert code == 2
    assert "is not a text file: it holds gzip-compressed data, and a stack file is YAML text" in err
    assert "iconv" not in err and "mv " not in err and "UTF-16" not in err
    binary = tmp_path / "Pulumi.bin.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = command("plan", "--config", str(binary))
    assert code == 2 and "it holds binary data" in err and "iconv" not in err


def test_a_utf16_stack_file_is_still_named_as_utf16(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_bytes(STACK.encode("utf-16-le"))  # no byte order mark: ASCII with every other byte zero
    code, _, err = command("plan", "--config", str(path))
    assert code == 2 and "is encoded as UTF-16 " in err and "iconv -f UTF-16LE" in err


def test_a_yaml_syntax_error_keeps_line_and_column_and_says_what_to_check(stack: Callable[[str], Path]) -> None:
    path = stack(f"config:\n  backline-access:tenantId: {TENANT}\n   backline-access:subscriptions: [{SUB_A}]\n")
    code, _, err = command("plan", "--config", str(path))
    assert code == 2
    assert f"{path}:3:33: is not valid YAML: mapping values are not allowed here" in err
    assert "(line 3: 'backline-access:subscriptions:" in err
    assert "the indentation under 'config:'" in err and "a space after each ':'" in err
    assert no_traceback(err)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            f"  backline-access:aks:\n    - subscription: {SUB_A}\n      clusters: [{{resourceGroup: rg, name: a}}]\n"
            "      exclude: [{resourceGroup: rg, name: b}]\n",
            "aks[0].exclude: only goes with all: true",
        ),
        ("  backline-access:managementGroups: [1e999]\n", "managementGroups[0]: Infinity is a number, not an id"),
        (f"  backline-access:aks:\n    - {{subscription: {SUB_A}, all: 'yes'}}\n", "aks[0].all: 'yes' must be true or"),
        (f"  backline-access:aks:\n    - {{subscription: {SUB_A}, all: 1}}\n", "aks[0].all: 1 must be true or false"),
        ("  backline-access:aksRequireAzureRbac: yes\n", "aksRequireAzureRbac: 'yes' must be true or false"),
    ],
    ids=["exclude-without-all", "1e999", "all-yes", "all-1", "require-yes"],
)
def test_each_mistake_gets_its_own_cause(stack: Callable[[str], Path], snippet: str, expected: str) -> None:
    text = f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:subscriptions: [{SUB_A}]\n" + snippet
    code, _, err = command("plan", "--config", str(stack(text)))
    assert code == 2, err
    assert expected in err
    assert "Infinity must be a string" not in err
    if "exclude" in expected:
        assert "az aks list" not in err


def test_booleans_written_as_booleans_still_pass(stack: Callable[[str], Path]) -> None:
    text = ALL_TRUE + "  backline-access:aksRequireAzureRbac: false\n"
    code, _, err = command("plan", "--config", str(stack(text)))
    assert code == 0, err


@pytest.mark.parametrize(
    ("given", "expected", "fix"),
    [
        ("Pulumi.prod.yaml", "is a file name; --stack takes the stack's name", "fix: --stack prod, or --config"),
        ("./Pulumi.prod.yaml", "is a file name", "fix: --stack prod"),
        (
            "Prod",
            "stack names are case-sensitive: the file is Pulumi.prod.yaml",
            "fix: backline-access plan --stack prod",
        ),
        ("prdo", "the stacks there: prod, staging (did you mean prod?)", "fix: backline-access plan --stack prod"),
        ("qa", "the stacks there: prod, staging", "fix: backline-access plan --stack prod"),
    ],
)
def test_every_stack_name_mistake_gets_the_fix_that_matches_it(
    tmp_path: Path, given: str, expected: str, fix: str
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    for name in ("prod", "staging"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text(STACK, encoding="utf-8")
    code, _, err = command("plan", "--stack", given, cwd=tmp_path)
    assert code == 2
    assert expected in err and fix in err
    if "did you mean" not in expected and "case-sensitive" not in expected:
        assert "did you mean" not in err


# --- say the whole plan ---------------------------------------------------------------------------------------


def test_the_text_plan_lists_the_all_true_grant_and_ends_with_what_to_run(stack: Callable[[str], Path]) -> None:
    code, out, _ = command("plan", "--config", str(stack(ALL_TRUE)))
    assert code == 0
    flat_out = flat(out)
    assert "1 role assignment(s) for Backline's service principal known now" not in flat_out  # two Readers
    assert "2 role assignment(s) for Backline's service principal known now, and one per AKS cluster found at " in (
        flat_out
    )
    grants = out.split("\nGrants:\n")[1].split("\n\n")[0]
    assert f"AKS RBAC Reader on every AKS cluster of subscription\n      {SUB_A}: create" in grants or (
        f"AKS RBAC Reader on every AKS cluster of subscription {SUB_A}: create" in grants
    )
    assert "one grant per cluster found at deploy time (all: true)" in grants
    assert "except rg-prod/aks-legacy" in grants
    assert out.rstrip().splitlines()[-3:] == [
        "  pulumi stack init prod    # once, if Pulumi does not know the stack yet",
        "  pulumi preview --stack prod    # reads Azure, changes nothing",
        "  pulumi up --stack prod",
    ]


def test_with_an_output_file_the_next_steps_go_to_the_terminal_not_the_file(
    stack: Callable[[str], Path], tmp_path: Path
) -> None:
    report = tmp_path / "plan.txt"
    code, out, err = command("plan", "--config", str(stack(ALL_TRUE)), "--output", str(report))
    assert code == 0 and out == ""
    assert "pulumi up --stack prod" in err and "pulumi preview --stack" not in report.read_text(encoding="utf-8")


def test_the_az_script_stops_at_the_first_failed_az_command(stack: Callable[[str], Path], tmp_path: Path) -> None:
    code, script, _ = command("plan", "--config", str(stack(ALL_TRUE)), "--format", "az")
    assert code == 0
    assert script.splitlines()[:4][0] == "#!/usr/bin/env bash" and "set -euo pipefail" in script.splitlines()[:4]
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    log = tmp_path / "az.log"
    fake_az = bin_folder / "az"
    fake_az.write_text(
        f'#!/usr/bin/env bash\necho "$*" >> {log}\n[[ "$1 $2" == "aks list" ]] && exit 3\nexit 0\n', encoding="utf-8"
    )
    fake_az.chmod(fake_az.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "plan.sh").write_text(script, encoding="utf-8")
    done = subprocess.run(
        ["bash", str(tmp_path / "plan.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bin_folder}:{os.environ['PATH']}"},
        timeout=60,
    )
    assert done.returncode == 3  # the failed listing's own code: nothing after it ran
    ran = log.read_text(encoding="utf-8").splitlines()
    assert ran[-1].startswith("aks list --subscription")
    assert not any("--scope $id" in line or "managedClusters" in line for line in ran)


# --- honest causes -------------------------------------------------------------------------------------------


def _verifier_env(fake: FakeAzureServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}
    return {**env, "ARM_METADATA_HOSTNAME": fake.host, "ARM_CLIENT_ID": "verifier", "ARM_CLIENT_SECRET": "s3cret"}


def test_a_subscription_that_does_not_exist_has_one_cause_not_two(serve: Serve, stack: Callable[[str], Path]) -> None:
    estate = onboarded()
    estate.subscriptions = [SUB_A]
    estate.assignments = [a for a in estate.assignments if SUB_B not in a.scope]
    fake = serve(estate)
    code, out, _ = command("verify", "--config", str(stack(STACK)), "--wait", "0", env=_verifier_env(fake))
    assert code == 1
    flat_out = flat(out)
    assert f"not found: Azure has no subscription {SUB_B}" in flat_out
    assert "could not be read, so what else Backline holds there is not known" not in flat_out
    assert "give the identity that verifies Reader" not in flat_out


def test_without_credentials_and_without_az_the_fix_says_az_is_missing_and_the_other_ways_in(
    stack: Callable[[str], Path], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}
    env["PATH"] = str(Path(sys.executable).parent)  # python and backline-access, but no az
    env["HOME"] = str(tmp_path)
    code, out, _ = command("verify", "--config", str(stack(STACK)), "--wait", "0", env=env)
    assert code == 3
    flat_out = flat(out)
    assert "the Azure CLI (az) is not installed here" in flat_out
    assert "ARM_CLIENT_ID with ARM_CLIENT_SECRET" in flat_out and "ARM_USE_OIDC=true in CI" in flat_out


# --- one client on the wire ----------------------------------------------------------------------------------


def test_every_request_names_backline_access_sign_in_and_cloud_metadata_included(
    serve: Serve, stack: Callable[[str], Path]
) -> None:
    fake = serve(onboarded())
    code, _, err = command("verify", "--config", str(stack(STACK)), "--wait", "0", env=_verifier_env(fake))
    assert code == 0, err
    paths = {r.path for r in fake.requests}
    assert "/metadata/endpoints" in paths
    assert any(p.endswith("/oauth2/v2.0/token") for p in paths)
    anonymous = [(r.method, r.path, r.headers.get("user-agent")) for r in fake.requests]
    assert [a for a in anonymous if "backline-access/" not in (a[2] or "")] == []
    assert all("x-ms-client-request-id" in r.headers for r in fake.requests if r.path == "/metadata/endpoints")


# --- start here -----------------------------------------------------------------------------------------------


def test_the_documented_demo_runs_verify_against_the_sample_estate_in_a_second() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in readme.splitlines() if line.startswith(".venv/bin/python -m tests.fake_azure")]
    argv = line.split()
    argv[0] = sys.executable
    installed = str(Path(sys.executable).parent / "backline-access")
    argv = [installed if a == ".venv/bin/backline-access" else a for a in argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 1, done.stderr  # the sample estate has three things to fix
    assert "not everything passes: 9 pass, 0 pending, 3 fail, 0 unknown, 0 warn" in done.stdout
    assert "role 'Contributor'" in done.stdout and "aadProfile.enableAzureRBAC is not true" in done.stdout
