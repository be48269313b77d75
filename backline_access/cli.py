"""The `backline-access` command: the offline plan, verification in Azure, and the stack config schema."""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pulumi
import typer
from typer.core import TyperCommand

from . import __version__
from .azure import AzureReadError, EstateReader, SignInError, reader_from_environment, resolve_cloud
from .config import (
    BACKLINE_APP_ID,
    ConfigError,
    Problem,
    default_stack,
    handed_over_config,
    load_config,
    login_fix,
    parse_stack_name,
    stack_file,
    stack_file_schema,
)
from .deploy import provider_settings
from .init import unwritable_because, write_atomically
from .plan import build_plan
from .review import plan_document, plan_progress, render_az, render_markdown, render_text, run_offline

if TYPE_CHECKING:
    from .config import AccessConfig, Cloud
    from .verify import Attestation, Check

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help and errors: readable in CI logs, wrapped by click, no boxes
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

# azure-identity logs each failed token request at WARNING; with no handler Python prints it to stderr before
# our own message about the same failure (which names the fix).
logging.getLogger("azure.identity").addHandler(logging.NullHandler())

EXIT_INVALID_CONFIG = 2
EXIT_FAILED = 1
EXIT_CREDENTIALS = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
# How long verify's reads may take beyond --wait (the last round, its retries and Retry-After waits).
VERIFY_READ_SECONDS = 60.0
REVOKE_READ_SECONDS = 300.0
MAX_WAIT_SECONDS = 86400.0


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    az = "az"


class RevokeFormat(StrEnum):
    script = "script"
    json = "json"


class VerifyFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    markdown = "markdown"


def _format_option(formats: type[StrEnum], help_text: str) -> Any:
    """`--format`, whose help lists `formats` and whose bad value is answered with them."""
    names = [f.value for f in formats]

    def one_of(value: str) -> str:
        if value not in names:
            raise typer.BadParameter(f"{value!r} is not a format; the formats: {', '.join(names)}")
        return value

    return typer.Option("--format", callback=one_of, metavar=f"[{'|'.join(names)}]", help=help_text)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"backline-access {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """The `backline-access` command: the offline plan, verification in Azure, init of a stack file from the
    bash script's flags, and the stack config schema."""


StackOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="The stack: name, org/name or org/project/name, as pulumi --stack takes it; reads Pulumi.<name>.yaml "
        "beside Pulumi.yaml. Default: the project's only stack.",
    ),
]
ConfigFileOption = Annotated[
    Path | None,
    typer.Option(
        "--config", metavar="FILE", help="A stack config file to read instead of a stack's (not with --stack)."
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        metavar="FILE",
        help="Write the report to this file (atomically: never half a file) instead of standard output.",
    ),
]


class _CtrlC:
    """Ctrl-C ends the command within a moment, exit 130: `report` says what it can (one line, or verify's last
    round), then the process leaves at once. Handled as a signal, not a KeyboardInterrupt: under Pulumi's mock
    engine (asyncio and worker threads) and during parallel reads, a KeyboardInterrupt lands anywhere: swallowed
    for seconds, a traceback, or a wait on threads that hold a connection open."""

    def __init__(self, report: Callable[[], None]) -> None:
        self.report = report
        self.previous: Any = None
        self.cleanups: list[Callable[[], None]] = []

    def first(self, cleanup: Callable[[], None]) -> None:
        """Run `cleanup` before the report (a spinner that must give the terminal back)."""
        self.cleanups.append(cleanup)

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._stop)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _stop(self, signum: int, frame: object) -> None:
        try:
            for cleanup in self.cleanups:
                cleanup()
            self.report()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)


def _said(line: str) -> Callable[[], None]:
    return lambda: typer.echo(f"\nInterrupted (Ctrl-C): {line}", err=True)


def _chosen_stack(stack: str | None, config: Path | None, command: str) -> tuple[Path, str, str]:
    """The stack file to read, the stack's name and how reports name it, from --stack or --config (one of them,
    never both)."""
    if stack is not None and config is not None:
        raise ConfigError(
            [
                Problem(
                    "--stack",
                    f"and --config {config} name two stack files; give one of them",
                    f"backline-access {command} --stack {stack}, or backline-access {command} --config {config}",
                    stack,
                )
            ],
            heading="Usage",
        )
    if config is not None:
        name = config.name.removeprefix("Pulumi.").removesuffix(".yaml") if config.name.startswith("Pulumi.") else ""
        return config, name or "dev", str(config)
    chosen = parse_stack_name(stack) if stack is not None else default_stack(Path.cwd(), command)
    return stack_file(chosen, Path.cwd(), command), chosen.name, chosen.given


def _text_width(output: Path | None) -> int:
    """80 columns in files and CI logs; a terminal's own width (60 to 120) when text goes to one."""
    if output is not None or not sys.stdout.isatty():
        return 80
    return max(60, min(120, shutil.get_terminal_size((80, 24)).columns))


def _output_problem(output: Path | None) -> Problem | None:
    """--output checked before any work: a report that cannot be written is known before it is made."""
    why = unwritable_because(output) if output is not None else None
    if why is None:
        return None
    return Problem(
        "--output",
        why,
        "give a file in a folder that exists and that you may write, e.g. --output ./report.txt",
        str(output),
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        write_atomically(output, text if text.endswith("\n") else text + "\n")
    except OSError as error:  # the folder changed since the check, or the disk is full
        typer.echo(f"Error: cannot write {output}: {error.strerror or error}; nothing was written", err=True)
        raise typer.Exit(EXIT_FAILED) from None


@app.command(short_help="What pulumi up would grant, offline.")
def plan(
    stack: StackOption = None,
    config: ConfigFileOption = None,
    output_format: Annotated[
        str,
        _format_option(Format, "text for people, json for review bots, markdown for a pull request, az for auditors."),
    ] = Format.text.value,
    output: OutputOption = None,
) -> None:
    """Show exactly what access `pulumi up` would grant (offline).

    Runs the real program under Pulumi's mock engine: no credentials, no network, no Pulumi CLI. Checks that
    need Azure are listed as not checked offline."""
    with _CtrlC(_said("nothing was written, and nothing in Azure or Pulumi was changed.")) as ctrl_c:
        try:
            _stop_on(_output_problem(output))
            stack_path, stack_name, label = _chosen_stack(stack, config, "plan")
            handed_over = handed_over_config(stack_path)
            access = load_config(handed_over)
            with plan_progress() as progress:
                ctrl_c.first(progress.stop)
                run = run_offline(handed_over, stack=stack_name, on_register=progress)
            document = plan_document(access, run, planned=label)
        except ConfigError as error:
            typer.echo(error.render(), err=True)
            raise typer.Exit(EXIT_INVALID_CONFIG) from None
        except pulumi.RunError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        renderers: dict[Format, Callable[[dict[str, Any]], str]] = {
            Format.json: lambda d: json.dumps(d, indent=2),
            Format.markdown: render_markdown,
            Format.az: render_az,
            Format.text: functools.partial(render_text, width=_text_width(output)),
        }
        _emit(renderers[Format(output_format)](document).rstrip("\n"), output)
    if output_format == Format.text.value:
        typer.echo(_next_steps(label if config is None else stack_name, output), err=output is not None)


def _next_steps(stack: str, output: Path | None) -> str:
    """What a person runs after reading the plan: whole commands, one a line."""
    written = f"Wrote the plan to {output}.\n" if output is not None else "\n"
    return (
        f"{written}Next, with the Pulumi CLI:\n"
        f"  pulumi stack init {stack}    # once, if Pulumi does not know the stack yet\n"
        f"  pulumi preview --stack {stack}    # reads Azure, changes nothing\n"
        f"  pulumi up --stack {stack}"
    )


def _stop_on(problem: Problem | None) -> None:
    if problem is not None:
        raise ConfigError([problem], heading="Usage")


def _exit_on_usage(*problems: Problem | None) -> None:
    """The first usage problem, said with its fix, and exit 2; nothing when there is none."""
    try:
        for problem in problems:
            _stop_on(problem)
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None


def _wait_problem(wait: float) -> Problem | None:
    if math.isfinite(wait) and 0 <= wait <= MAX_WAIT_SECONDS:
        return None
    return Problem(
        "--wait",
        f"must be a number of seconds from 0 to {MAX_WAIT_SECONDS:.0f} (a day)",
        "--wait 600 waits out the 10 minutes Azure may take to propagate a role; --wait 0 checks once",
        str(wait),
    )


@app.command(short_help="Check in Azure that Backline's access works.")
def verify(
    stack: StackOption = None,
    config: ConfigFileOption = None,
    wait: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Seconds to wait for propagation (0 to 86400), re-checking what does not pass yet; 0 checks once.",
        ),
    ] = 600.0,
    output_format: Annotated[
        str,
        _format_option(
            VerifyFormat, "text for people, json for bots, junit for CI test views, markdown for an attestation."
        ),
    ] = VerifyFormat.text.value,
    output: OutputOption = None,
) -> None:
    """Check in Azure that Backline has the access the stack grants, and that it works (read-only).

    Signs in with the ARM_* variables the providers read (client secret, certificate, OIDC, managed identity,
    else the Azure CLI login), on the stack's cloud. Ctrl-C while waiting reports the last results, marked
    interrupted, and exits 130. Exit codes: 0 all pass, 1 a check failed or stayed unknown, 2 invalid config or
    usage, 3 credentials or tenant problem."""
    from .verify import (
        Progress,
        ok,
        plan_as_azure_has_it,
        render_attestation,
        render_json,
        render_junit,
        tenant_problem,
        verify_until,
    )
    from .verify import render_text as render_checks

    _exit_on_usage(_wait_problem(wait), _output_problem(output))
    access, label, cloud, reader = _reader_for_stack(stack, config, "verify")
    budget = wait + VERIFY_READ_SECONDS

    def attested(checks: list[Check], heading: str | None = None, interrupted: bool = False) -> str:
        return render_attestation(checks, _attestation(access.tenant_id, reader), heading, interrupted)

    renderers: dict[VerifyFormat, Callable[..., str]] = {
        VerifyFormat.json: render_json,
        VerifyFormat.junit: render_junit,
        VerifyFormat.markdown: attested,
    }
    render = renderers.get(VerifyFormat(output_format), functools.partial(render_checks, width=_text_width(output)))
    heading = f"stack {label}, tenant {access.tenant_id}"
    progress = Progress()

    def interrupted() -> None:
        """Ctrl-C: the last round that ended, marked interrupted (verify only reads: nothing was changed)."""
        progress.close()
        if progress.last is None:
            typer.echo(
                "\nInterrupted (Ctrl-C) before the first round of checks ended: nothing to report; nothing was "
                "changed.",
                err=True,
            )
        else:
            _emit(render(progress.last, heading=heading, interrupted=True), output)

    try:
        with (
            _CtrlC(interrupted),
            reader.deadline(budget, f"{budget:.0f} s this verify may take (--wait plus {VERIFY_READ_SECONDS:.0f} s)"),
        ):
            checks = verify_until(
                plan_as_azure_has_it(access, reader),
                reader,
                cloud,
                wait,
                principal_id=access.service_principal.object_id,
                on_round=progress,
                first_pause=min(5.0, max(0.05, wait / 20)),
            )
    except SignInError as error:
        fix = login_fix(access.tenant_id, cloud, az_missing=error.az_missing)
        typer.echo(f"Error: cannot sign in for {error.audience}: {error.message}\n    fix: {fix}", err=True)
        raise typer.Exit(EXIT_CREDENTIALS) from None
    except KeyboardInterrupt:  # raised by code, not by the signal (which _CtrlC handles)
        interrupted()
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        progress.close()
    _emit(render(checks, heading=heading), output)
    if tenant_problem(checks):
        raise typer.Exit(EXIT_CREDENTIALS)
    if not ok(checks):
        raise typer.Exit(EXIT_FAILED)


@app.command(short_help="Write a script that removes Backline's access (break glass; deletes nothing itself).")
def revoke(
    stack: StackOption = None,
    config: ConfigFileOption = None,
    output_format: Annotated[
        str,
        _format_option(RevokeFormat, "script: a bash script that deletes by id; json: the same list, for bots."),
    ] = RevokeFormat.script.value,
    output: OutputOption = None,
) -> None:
    """Find every role assignment of Backline's service principal that you can see, and print a bash script that
    deletes each one by id (the service principal's own deletion is a commented line). For offboarding, a lost
    stack or an incident: it needs neither Pulumi nor the stack's state, and it only reads.

    It lists the principal's assignments at, above and below the stack config's subscriptions and management
    groups and every subscription and management group you can list (other subscriptions, resource groups and
    clusters included); another principal's are never in it. Signs in as `verify` does. Exit codes: 0 every
    listing was read, 1 the script is incomplete (a scope could not be read), 2 invalid config or usage,
    3 credentials or tenant problem."""
    from .revoke import find_revocation, render_json, render_script

    _exit_on_usage(_output_problem(output))
    access, _, cloud, reader = _reader_for_stack(stack, config, "revoke")
    with _CtrlC(_said("nothing was written, and nothing in Azure was changed.")):
        try:
            with reader.deadline(REVOKE_READ_SECONDS, f"{REVOKE_READ_SECONDS:.0f} s revoke may take"):
                revocation = find_revocation(access, reader)
                who = _attestation(access.tenant_id, reader)
        except SignInError as error:
            fix = login_fix(access.tenant_id, cloud, az_missing=error.az_missing)
            typer.echo(f"Error: cannot sign in for {error.audience}: {error.message}\n    fix: {fix}", err=True)
            raise typer.Exit(EXIT_CREDENTIALS) from None
        except AzureReadError as error:
            typer.echo(
                f"Error: cannot look up Backline's service principal in Microsoft Graph: {error}\n"
                "    fix: give the identity Application.Read.All (or Directory.Read.All), or set "
                "servicePrincipal.objectId in the stack config (az ad sp show --id "
                f"{BACKLINE_APP_ID} --query id -o tsv)",
                err=True,
            )
            raise typer.Exit(EXIT_FAILED) from None
    if output_format == RevokeFormat.json.value:
        _emit(render_json(revocation), output)
    else:
        found_by = f"backline-access revoke {__version__} signed in as {who.verified_by}, {who.date}"
        _emit(render_script(revocation, cloud.az_prefix(), found_by), output)
    if not revocation.complete:
        typer.echo(
            "Warning: some listings could not be read; the script removes only what was found (see NOT COMPLETE).",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)


def _reader_for_stack(
    stack: str | None, config: Path | None, command: str
) -> tuple[AccessConfig, str, Cloud, EstateReader]:
    """The stack's config, its label, its cloud and a reader signed in as the providers would be (no provider
    starts). Exits 2 on a bad config, 3 when the cloud cannot be reached."""
    try:
        stack_path, _, label = _chosen_stack(stack, config, command)
        handed_over = handed_over_config(stack_path)
        access = load_config(handed_over)
        # The same settings and cloud rules as the providers in `pulumi up`.
        home = build_plan(access).home_subscription
        settings = provider_settings(handed_over, set(), os.environ, access.tenant_id, home, starts_provider=False)
        choice = settings.cloud
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None
    try:
        cloud = resolve_cloud(choice)
        reader = reader_from_environment(os.environ, cloud, access.tenant_id, settings=_sign_in_settings(settings.arm))
    except (AzureReadError, ValueError) as error:
        typer.echo(f"Error: cannot reach the cloud of {choice.source}: {error}", err=True)
        raise typer.Exit(EXIT_CREDENTIALS) from None
    return access, label, cloud, reader


def _attestation(tenant: str, reader: EstateReader) -> Attestation:
    """Who verified (read from the token once the checks signed in) and when."""
    from .verify import Attestation

    try:
        who = reader.verifier()
    except (SignInError, AzureReadError):
        who = "unknown (no token)"
    return Attestation(tenant, who, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _sign_in_settings(arm: dict[str, object]) -> dict[str, str]:
    """The azure-native settings that choose a credential, as the provider reads them (booleans as `true`)."""
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in arm.items()}


# init's flags that take a value, and what the value is (the script's words for a missing one).
_INIT_VALUES = {
    "--stack": "a stack name",
    "--tenant": "a tenant ID",
    "--cloud-sub": "a subscription ID",
    "--aks-sub": "a subscription ID",
    "--management-group": "a management group ID",
    "--aks-grant-at": "cluster or subscription",
}
_INIT_SWITCHES = ("--aks-all", "--from-existing", "--dry-run", "--yes")


class _ScriptFlags(TyperCommand):
    """init's flags as the bash script reads them: a flag whose value is missing, or is another flag, and a word
    that belongs to no flag, each get one message in the script's words (click would take `--cloud-sub` as the
    value of `--aks-sub`, then call the next word an extra argument)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not any(arg in ("-h", "--help") for arg in args):
            problem = _script_flag_problem(args)
            if problem:
                # As click shows a usage error (typer vendors click: its UsageError is not public).
                typer.echo(f"{ctx.get_usage()}\nTry '{ctx.command_path} -h' for help.\n\nError: {problem}", err=True)
                raise typer.Exit(EXIT_INVALID_CONFIG)
        return list(super().parse_args(ctx, args))


def _script_flag_problem(args: list[str]) -> str | None:
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _INIT_VALUES:
            following = args[index + 1] if index + 1 < len(args) else None
            if following is None or following.startswith("--"):
                got = "nothing" if following is None else f"the flag '{following}'"
                return f"{arg} requires {_INIT_VALUES[arg]} (got {got})"
            index += 2
            continue
        if not arg.startswith("--"):
            after = args[index - 1] if index else None
            why = f"; {after} takes no value" if after in _INIT_SWITCHES else ""
            return f"unexpected argument '{arg}'{why}"
        index += 1
    return None


@app.command(cls=_ScriptFlags, short_help="Write a stack file from the script's flags.")
def init(
    stack: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="The stack to write: name, org/name or org/project/name; the file is Pulumi.<name>.yaml beside the "
            "nearest Pulumi.yaml.",
        ),
    ],
    tenant: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Tenant id; default: the stack file's, else the credentials' tenant."),
    ] = None,
    cloud_sub: Annotated[
        list[str], typer.Option("--cloud-sub", metavar="ID", help="Reader on this subscription (repeatable).")
    ] = [],  # noqa: B006 - typer reads the default, never mutates it
    aks_sub: Annotated[
        list[str],
        typer.Option(
            "--aks-sub", metavar="ID", help="List this subscription's AKS clusters and ask for each (repeatable)."
        ),
    ] = [],  # noqa: B006
    aks_all: Annotated[
        bool, typer.Option("--aks-all", help="With --aks-sub: every cluster, without asking (written as all: true).")
    ] = False,
    aks_grant_at: Annotated[
        str | None,
        typer.Option(
            "--aks-grant-at",
            metavar="cluster|subscription",
            help="With --aks-all: subscription writes one grant at the subscription (grantAt: subscription: every "
            "cluster, present and future); cluster, a grant per cluster found. Default: asked on a terminal, else "
            "cluster.",
        ),
    ] = None,
    management_group: Annotated[
        list[str],
        typer.Option("--management-group", metavar="ID", help="Reader on this management group (repeatable)."),
    ] = [],  # noqa: B006
    from_existing: Annotated[
        bool,
        typer.Option("--from-existing", help="Take over the access Backline's service principal already has."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Write without asking for confirmation.")] = False,
) -> None:
    """Write (or merge into) Pulumi.<stack>.yaml from the bash script's flags, answers per cluster, or the
    access Backline already has. Keeps your comments and keys; running it twice changes nothing.

    Exit codes: 0 written or nothing to change, 1 Azure could not be read, 2 bad flags or config, 3 credentials."""
    from .init import Request, Terminal, run_init

    request = Request(cloud_sub, aks_sub, aks_all, management_group, from_existing, aks_grant_at)
    untouched = _said("nothing was written (the stack file is as it was), and nothing in Azure was changed.")
    with _CtrlC(untouched):
        code = run_init(stack, tenant, request, dry_run, yes, os.environ, Terminal.of_process(), Path.cwd())
    raise typer.Exit(code)


@app.command(short_help="The JSON Schema of a stack file (or, with --package, the component package's schema).")
def schema(
    package: Annotated[
        bool,
        typer.Option(
            "--package",
            help="Print the Pulumi package schema of the component package `backline` instead (provider/schema.json: "
            "what `pulumi package add` generates SDKs from).",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of a Pulumi.<stack>.yaml for this project (for editors and CI linting)."""
    if package:
        from .plugin import package_schema

        typer.echo(json.dumps(package_schema(), indent=2))
        return
    typer.echo(json.dumps(stack_file_schema(), indent=2))


def main() -> None:
    sys.exit(app())  # pragma: no cover
