"""The `backline-access` command: the offline plan, verification in Azure, and the stack config schema."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pulumi
import typer

from .azure import AzureReadError, EstateReader, SignInError, reader_from_environment, resolve_cloud
from .config import (
    AccessConfig,
    ConfigError,
    Problem,
    handed_over_config,
    load_config,
    login_fix,
    project_folder,
    stack_file_schema,
)
from .deploy import provider_settings
from .plan import AccessPlan, build_plan
from .review import plan_document, render_az, render_markdown, render_text, run_offline

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

EXIT_INVALID_CONFIG = 2
EXIT_FAILED = 1


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    az = "az"


class VerifyFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


EXIT_CREDENTIALS = 3
# How long verify's reads may take beyond --wait (the last round, its retries and Retry-After waits).
VERIFY_READ_SECONDS = 60.0

StackOption = Annotated[str, typer.Option(help="Stack name: reads Pulumi.<stack>.yaml beside Pulumi.yaml.")]
ConfigFileOption = Annotated[
    Path | None, typer.Option("--config", help="A stack config file to read instead of Pulumi.<stack>.yaml.")
]


@app.command()
def plan(
    stack: StackOption = "dev",
    config: ConfigFileOption = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format", help="text for people, json for review bots, markdown for a pull request, az for auditors."
        ),
    ] = Format.text,
) -> None:
    """Show exactly what access `pulumi up` would grant (offline).

    Runs the real program under Pulumi's mock engine: no credentials, no network, no Pulumi CLI.
    Checks that need Azure are listed as not checked offline."""
    try:
        stack_file = config or _stack_file(stack)
        handed_over = handed_over_config(stack_file)
        access = load_config(handed_over)
        document = plan_document(access, run_offline(handed_over, stack=stack))
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None
    except pulumi.RunError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    renderers = {
        Format.json: lambda d: json.dumps(d, indent=2),
        Format.markdown: render_markdown,
        Format.az: render_az,
        Format.text: render_text,
    }
    typer.echo(renderers[output_format](document).rstrip("\n"))


@app.command()
def verify(
    stack: StackOption = "dev",
    config: ConfigFileOption = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for propagation, re-checking what does not pass yet; 0 checks once.")
    ] = 600.0,
    output_format: Annotated[
        VerifyFormat, typer.Option("--format", help="text for people, json for bots, junit for CI test views.")
    ] = VerifyFormat.text,
) -> None:
    """Check in Azure that Backline has the access the stack grants, and that it works (read-only).

    Signs in with the ARM_* variables the providers read (client secret, certificate, OIDC, managed identity,
    else the Azure CLI login), on the stack's cloud. Exit codes: 0 all pass, 1 a check failed or stayed
    unknown, 2 invalid config or usage, 3 credentials or tenant problem."""
    from .verify import Progress, ok, render_json, render_junit, tenant_problem, verify_until
    from .verify import render_text as render_checks

    try:
        handed_over = handed_over_config(config or _stack_file(stack))
        access = load_config(handed_over)
        # The same settings and cloud rules as the providers in `pulumi up` (no provider starts here).
        home = build_plan(access).home_subscription
        settings = provider_settings(handed_over, set(), os.environ, access.tenant_id, home, starts_provider=False)
        choice = settings.cloud
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None
    if wait < 0:
        typer.echo("--wait: must be 0 or more seconds", err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG)
    try:
        cloud = resolve_cloud(choice)
        reader = reader_from_environment(os.environ, cloud, access.tenant_id, settings=_sign_in_settings(settings.arm))
    except (AzureReadError, ValueError) as error:
        typer.echo(f"error: cannot reach the cloud of {choice.source}: {error}", err=True)
        raise typer.Exit(EXIT_CREDENTIALS) from None
    progress = Progress()
    budget = wait + VERIFY_READ_SECONDS
    try:
        with reader.deadline(budget, f"{budget:.0f} s this verify may take (--wait plus {VERIFY_READ_SECONDS:.0f} s)"):
            checks = verify_until(
                _plan_with_every_cluster(access, reader),
                reader,
                cloud,
                wait,
                principal_id=access.service_principal.object_id,
                on_round=progress,
                first_pause=min(5.0, max(0.05, wait / 20)),
            )
    except SignInError as error:
        fix = login_fix(access.tenant_id, cloud)
        typer.echo(f"error: cannot sign in for {error.audience}: {error.message}\n    fix: {fix}", err=True)
        raise typer.Exit(EXIT_CREDENTIALS) from None
    finally:
        progress.close()
    render = {VerifyFormat.json: render_json, VerifyFormat.junit: render_junit}.get(output_format, render_checks)
    typer.echo(render(checks))
    if tenant_problem(checks):
        raise typer.Exit(EXIT_CREDENTIALS)
    if not ok(checks):
        raise typer.Exit(EXIT_FAILED)


def _sign_in_settings(arm: dict[str, object]) -> dict[str, str]:
    """The azure-native settings that choose a credential, as the provider reads them (booleans as `true`)."""
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in arm.items()}


def _plan_with_every_cluster(access: AccessConfig, reader: EstateReader) -> AccessPlan:
    """The plan, with the clusters `all: true` entries take as Azure has them now (unreadable ones are left to
    the checks, which report what they cannot read as unknown)."""
    subscriptions = [selection.subscription for selection in access.all_cluster_selections()]
    if not subscriptions:
        return build_plan(access)
    inventory = reader.clusters_in(subscriptions)
    return build_plan(access, {s: [info.cluster for info in found] for s, found in inventory.clusters.items()})


@app.command()
def init(
    stack: Annotated[str, typer.Option(help="The stack to write: Pulumi.<stack>.yaml beside the nearest Pulumi.yaml.")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id; default: the stack file's, else the credentials' tenant.")
    ] = None,
    cloud_sub: Annotated[list[str], typer.Option("--cloud-sub", help="Reader on this subscription (repeatable).")] = [],  # noqa: B006 - typer reads the default, never mutates it
    aks_sub: Annotated[
        list[str],
        typer.Option("--aks-sub", help="List this subscription's AKS clusters and ask for each (repeatable)."),
    ] = [],  # noqa: B006
    aks_all: Annotated[
        bool, typer.Option("--aks-all", help="With --aks-sub: every cluster, without asking (written as all: true).")
    ] = False,
    management_group: Annotated[
        list[str], typer.Option("--management-group", help="Reader on this management group (repeatable).")
    ] = [],  # noqa: B006
    from_existing: Annotated[
        bool,
        typer.Option("--from-existing", help="Take over the access Backline's service principal already has."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Write without asking for confirmation.")] = False,
) -> None:
    """Write (or merge into) Pulumi.<stack>.yaml from the bash script's flags, per-cluster answers, or the
    access Backline already has. Keeps your comments and keys; running it twice changes nothing.

    Exit codes: 0 written or nothing to change, 1 Azure could not be read, 2 bad flags or config, 3 credentials."""
    from .init import Request, Terminal, run_init

    request = Request(cloud_sub, aks_sub, aks_all, management_group, from_existing)
    code = run_init(stack, tenant, request, dry_run, yes, os.environ, Terminal.of_process(), Path.cwd())
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a Pulumi.<stack>.yaml for this project (for editors and CI linting)."""
    typer.echo(json.dumps(stack_file_schema(), indent=2))


def _stack_file(stack: str) -> Path:
    folder = project_folder(Path.cwd())
    if folder is not None:
        path = folder / f"Pulumi.{stack}.yaml"
        if not path.is_file():
            raise ConfigError([_unknown_stack(folder, stack)], heading="No such stack")
        return path
    problem = Problem(
        "--stack",
        f"needs a Pulumi.yaml in {Path.cwd()} or one of its parents",
        "run from the project folder, or pass --config Pulumi.<stack>.yaml",
        stack,
    )
    raise ConfigError([problem], heading="No Pulumi project")


def _unknown_stack(folder: Path, stack: str) -> Problem:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))
    if not stacks:
        return Problem(
            "--stack",
            f"has no stack file Pulumi.{stack}.yaml in {folder}, and there are no stacks there",
            f"copy Pulumi.dev.yaml from this project to {folder}/Pulumi.{stack}.yaml and fill in your ids",
            stack,
        )
    return Problem(
        "--stack",
        f"has no stack file Pulumi.{stack}.yaml in {folder}; the stacks there: {', '.join(stacks)}",
        f"backline-access plan --stack {stacks[0]}",
        stack,
    )


def main() -> None:
    sys.exit(app())  # pragma: no cover
