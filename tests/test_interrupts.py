"""Ctrl-C in the installed `backline-access` command: in plan, verify and init (at a prompt too), on a terminal and
in a pipe, at the start and later, it ends within 2 s with exit 130 and one line that says what was (not) done;
never a traceback, never a half-written file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
from fake_azure import FakeAzureServer
from test_init import project, signed_in, world  # noqa: F401 - fixtures, used by name
from test_verification import SUB_A, SUB_B, TENANT, onboarded
from test_verify_cli import STACK

COMMAND = str(Path(sys.executable).parent / "backline-access")
Serve = Callable[..., FakeAzureServer]


def large_stack(folder: Path) -> Path:
    """800 subscriptions and 1,800 clusters: a plan of about 15 s, long enough to interrupt."""
    subscriptions = [str(uuid.UUID(int=index + 1000, version=4)) for index in range(800)]
    lines = ["config:", f"  backline-access:tenantId: {TENANT}", "  backline-access:subscriptions:"]
    lines += [f"    - {s}" for s in subscriptions]
    lines.append("  backline-access:aks:")
    for index, subscription in enumerate(subscriptions[:700]):
        count = 4 if index < 100 else 2
        clusters = ", ".join(f"{{resourceGroup: rg-{j}, name: aks-{index}-{j}}}" for j in range(count))
        lines.append(f"    - {{subscription: {subscription}, clusters: [{clusters}]}}")
    path = folder / "Pulumi.large.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def interrupted(args: list[str], after: float, env: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    """The command in a pipe, Ctrl-C (SIGINT) after `after` seconds: exit code, stdout, stderr, seconds it took."""
    process = subprocess.Popen(
        [COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or dict(os.environ)
    )
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err, time.monotonic() - sent


@pytest.mark.parametrize("after", [0.05, 0.6, 3.0], ids=["while-starting", "loading", "planning"])
def test_ctrl_c_in_a_piped_plan_ends_at_once_with_one_line_and_writes_nothing(tmp_path: Path, after: float) -> None:
    report = tmp_path / "plan.txt"
    code, out, err, took = interrupted(["plan", "--config", str(large_stack(tmp_path)), "--output", str(report)], after)
    assert code == 130
    assert took < 2.0
    assert "Traceback" not in err and "RuntimeError" not in err
    [line] = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("Interrupted (Ctrl-C)") and "nothing was" in line
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.large.yaml"]  # no report, no temporary file


def test_ctrl_c_in_a_plan_on_a_terminal_stops_the_spinner_and_ends_at_once(tmp_path: Path) -> None:
    child = pexpect.spawn(COMMAND, ["plan", "--config", str(large_stack(tmp_path))], encoding="utf-8", timeout=30)
    child.expect_exact("Planning offline")
    time.sleep(1.0)
    child.sendintr()
    sent = time.monotonic()
    child.expect(pexpect.EOF)
    child.close()
    assert time.monotonic() - sent < 2.0
    assert child.exitstatus == 130
    screen = child.before or ""
    assert "Interrupted (Ctrl-C): nothing was written, and nothing in Azure or Pulumi was changed." in screen
    assert "Traceback" not in screen
    assert screen.rstrip().endswith("changed.")  # the spinner stopped before the line: nothing drawn after it


def _verifier_env(fake: FakeAzureServer, ca_file: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}
    return {
        **env,
        "ARM_METADATA_HOSTNAME": fake.host,
        "ARM_CLIENT_ID": "verifier",
        "ARM_CLIENT_SECRET": "s3cret",
        "REQUESTS_CA_BUNDLE": ca_file,
        "SSL_CERT_FILE": ca_file,
    }


def test_ctrl_c_while_verify_waits_reports_the_last_round_and_exits_130(serve: Serve, tmp_path: Path) -> None:
    estate = onboarded()
    estate.assignments = [a for a in estate.assignments if a.name != "r-b"]  # a grant that might still propagate
    fake = serve(estate)
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(STACK, encoding="utf-8")
    env = _verifier_env(fake, os.environ["SSL_CERT_FILE"])
    process = subprocess.Popen(
        [COMMAND, "verify", "--config", str(stack), "--wait", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # "verify: 1 of 12 checks not passing yet; ..."
    assert first.startswith("verify: ")
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0
    assert process.returncode == 130
    assert "INTERRUPTED (Ctrl-C)" in out and out.rstrip().splitlines()[-1].startswith("interrupted:")
    assert "PENDING" in out  # what was still propagating, as the JSON says it
    assert "Traceback" not in err


def test_ctrl_c_at_inits_question_writes_nothing(project: Path, signed_in: Serve) -> None:  # noqa: F811 - fixtures
    signed_in(world(clusters=2))
    child = pexpect.spawn(
        COMMAND,
        ["init", "--stack", "prod", "--cloud-sub", SUB_A, "--aks-sub", SUB_A],
        cwd=str(project),
        env=dict(os.environ),
        encoding="utf-8",
        timeout=60,
    )
    child.expect_exact("Grant AKS RBAC Reader access to 'aks-0' (resource group: rg-prod)? [y/N] ")
    child.sendintr()
    sent = time.monotonic()
    child.expect(pexpect.EOF)
    child.close()
    assert time.monotonic() - sent < 2.0
    assert child.exitstatus == 130
    assert "Interrupted (Ctrl-C): nothing was written (the stack file is as it was)" in (child.before or "")
    assert not (project / "Pulumi.prod.yaml").exists()


@pytest.mark.parametrize("columns", [100, 60])
def test_the_live_view_shows_waiting_grants_as_pending_and_ids_whole(
    serve: Serve, tmp_path: Path, columns: int
) -> None:
    estate = onboarded()
    # Reader on SUB_B and both clusters' grants still propagating: long rows squeeze the columns.
    estate.assignments = [a for a in estate.assignments if a.name in ("r-a",)]
    fake = serve(estate)
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(STACK, encoding="utf-8")
    env = _verifier_env(fake, os.environ["SSL_CERT_FILE"])
    child = pexpect.spawn(
        COMMAND,
        ["verify", "--config", str(stack), "--wait", "600"],
        env=env,
        encoding="utf-8",
        dimensions=(40, columns),
    )
    child.expect_exact("Waiting for Azure", timeout=30)
    child.expect_exact("pending", timeout=10)  # a row of the table
    time.sleep(0.5)
    child.sendintr()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")
    live = screen.split("Backline access checks")[0]
    assert "pending" in live and " fail " not in live
    assert SUB_B in live.replace("\r", "")  # the subscription id is never split across lines
    assert child.exitstatus == 130
