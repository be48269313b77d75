"""The steps of `backline-access init`, in order: check the flags, find the stack file, sign in, gather what to
grant, merge it into the file, validate the result, show the diff, then write (or, with --dry-run, not)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from azure.core.exceptions import AzureError

from ..azure import AzureReadError, SignInError, reader_from_environment, resolve_cloud
from ..config import (
    ConfigError,
    choose_cloud,
    config_warnings,
    handed_over_from_document,
    load_config,
    login_fix,
    parse_stack_name,
    project_folder,
    project_of,
    stack_file_text,
)
from ..deploy import unknown_cloud_problems
from .onboarding import InitError, InitReads, Present, Request, flag_problems, gather, needs_azure
from .stack_file_edit import StackFile, merge, tenant_conflict, unified_diff, write_atomically

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CREDENTIALS = 0, 1, 2, 3
# How long init's reads of Azure may take, retries and Retry-After waits included.
INIT_READ_SECONDS = 300.0
HEADER = (
    "Backline read-only access for one tenant (written by backline-access init; edit freely, init keeps your\n"
    "comments and keys). Check it offline: backline-access plan --stack {stack}"
)


@dataclass(frozen=True)
class Terminal:
    """Where init talks to a person: `interactive` when stdin is a terminal (prompts are possible)."""

    interactive: bool
    read_line: Callable[[], str]
    out: TextIO
    err: TextIO
    command: str = "backline-access"  # how this person runs us, for the commands we print back

    @classmethod
    def of_process(cls) -> Terminal:
        return cls(sys.stdin.isatty(), sys.stdin.readline, sys.stdout, sys.stderr, invoked_as())

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def error(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def ask(self, question: str) -> bool:
        """`question [y/N] `, and a yes only for y or yes (the script's default is no)."""
        print(f"{question} [y/N] ", end="", file=self.out, flush=True)
        return self.read_line().strip().lower() in ("y", "yes")


def invoked_as(argv0: str | None = None, cwd: Path | None = None) -> str:
    """The command as this person typed it: `backline-access` when that is what PATH finds, else its path
    (`.venv/bin/backline-access`, relative to the folder they are in), else `python -m backline_access`."""
    program = Path(argv0 if argv0 is not None else sys.argv[0])
    if program.name == "__main__.py":
        return "python -m backline_access"
    on_path = shutil.which(program.name)
    if on_path and Path(on_path).resolve() == program.resolve():
        return program.name
    try:
        return str(program.resolve().relative_to((cwd or Path.cwd()).resolve()))
    except ValueError:
        return str(program.resolve())


ReaderFactory = Callable[[Mapping[str, str], Present, str | None], tuple[InitReads, str]]


def run_init(
    stack: str,
    tenant: str | None,
    request: Request,
    dry_run: bool,
    yes: bool,
    environ: Mapping[str, str],
    terminal: Terminal,
    cwd: Path,
    reader: ReaderFactory | None = None,
) -> int:
    problems = flag_problems(request, tenant)
    if problems:
        for problem in problems:
            terminal.error(f"Error: {problem}")
        return EXIT_USAGE
    try:
        # Before anything else: a name Pulumi refuses, or another project's, is a typo.
        stack_name = parse_stack_name(stack)
        project = project_folder(cwd)
        if project is None:
            terminal.error(f"Error: no Pulumi.yaml in {cwd} or its parents: run init in the Pulumi project's folder.")
            return EXIT_USAGE
        path = project_of(stack_name, cwd) / stack_name.file_name
    except ConfigError as error:
        terminal.error(error.render() + "\nNothing was written.")
        return EXIT_USAGE
    if request.aks_subs and not request.aks_all and not terminal.interactive:
        terminal.error(
            "Error: --aks-sub asks for each cluster, and there is no terminal to ask on. Pass --aks-all to take every "
            "cluster (written as all: true), or list the clusters in the stack file yourself."
        )
        return EXIT_USAGE
    if not dry_run and not yes and not terminal.interactive:
        terminal.error("Error: no terminal to confirm writing the stack file on: pass --yes, or --dry-run to see it.")
        return EXIT_USAGE
    try:
        original = stack_file_text(path) if path.exists() else None
        stack_file = StackFile(original, path.name)
        present = Present.of(stack_file.config())
        if tenant and present.tenant_id and tenant.lower() != present.tenant_id:
            raise tenant_conflict(stack, present.tenant_id, tenant.lower())  # before any read or question
        reads, tenant_id = _signed_in(reader or _reader_from_environment, environ, present, tenant, request, terminal)
        ask = terminal.ask if terminal.interactive else None
        if yes and request.aks_grant_at is None:  # --yes asks nothing: all: true stays a grant per cluster
            request = replace(request, aks_grant_at="cluster" if request.aks_all else None)
        wanted = gather(request, reads, tenant_id, present, ask, terminal.say)
        merged = merge(stack_file, wanted, stack, header=HEADER.format(stack=stack))
        if merged.changes:
            access = load_config(handed_over_from_document(stack_file.document, path))  # as for any stack file
            for warning in config_warnings(access):  # what plan and pulumi preview will say of the file
                terminal.say(f"Warning: {warning}")
    except ConfigError as error:
        terminal.error(error.render() + "\nNothing was written.")
        return EXIT_USAGE
    except _CredentialsError as error:
        terminal.error(f"Error: {error}")
        return EXIT_CREDENTIALS
    except SignInError as error:  # a token that fails after the first (Graph, MFA, expiry)
        fix = login_fix(None, None, az_missing=error.az_missing)
        terminal.error(f"Error: cannot sign in for {error.audience}: {error.message}\n    fix: {fix}")
        return EXIT_CREDENTIALS
    except (InitError, AzureReadError) as error:
        terminal.error(f"Error: {error}")
        return EXIT_FAILED
    return _finish(path, original, merged.text, merged.changes, stack, dry_run, yes, terminal)


def _finish(
    path: Path,
    original: str | None,
    text: str,
    changes: list[str],
    stack: str,
    dry_run: bool,
    yes: bool,
    terminal: Terminal,
) -> int:
    next_step = (
        "Next:\n"
        f"  {terminal.command} plan --stack {stack}    # offline: what pulumi up would grant\n"
        f"  pulumi stack init {stack}    # once, if Pulumi does not know the stack yet\n"
        f"  pulumi preview --stack {stack}    # reads Azure, changes nothing"
    )
    if not changes:
        terminal.say(f"{path.name} already grants all of it: nothing to change.\n{next_step}")
        return EXIT_OK
    terminal.say(f"{path.name}: {len(changes)} change(s)")
    terminal.say("\n".join(f"  {change}" for change in changes))
    terminal.say(unified_diff(original or "", text, path).rstrip("\n"))
    if dry_run:
        terminal.say(f"Dry run: {path.name} was not written.")
        return EXIT_OK
    if not yes and not terminal.ask(f"Write {path.name}?"):
        terminal.say(f"{path.name} was not written.")
        return EXIT_OK
    try:
        write_atomically(path, text)
    except OSError as error:
        terminal.error(f"Error: cannot write {path}: {error.strerror or error}. Nothing was written.")
        return EXIT_FAILED
    terminal.say(f"Wrote {path}.\n{next_step}")
    return EXIT_OK


class _CredentialsError(Exception):
    pass


class _NoCredentialsError(_CredentialsError):
    """No credentials at all (as opposed to refused ones, or another tenant's)."""


def _signed_in(
    factory: ReaderFactory,
    environ: Mapping[str, str],
    present: Present,
    tenant: str | None,
    request: Request,
    terminal: Terminal,
) -> tuple[InitReads | None, str]:
    """The read side, or (flags that need no answer from Azure, and a known tenant) None when sign-in fails: the
    file is then written from the flags alone, and init says what it could not check."""
    try:
        return factory(environ, present, tenant)
    except _NoCredentialsError as error:
        known_tenant = (tenant or present.tenant_id or "").lower()
        if needs_azure(request) or not known_tenant:
            raise
        terminal.say(f"Azure was not read ({str(error).splitlines()[0]}); the flags need no answer from it.")
        return None, known_tenant


def _reader_from_environment(environ: Mapping[str, str], present: Present, tenant: str | None) -> tuple[InitReads, str]:
    """The read side on the stack's cloud, signed in with the ARM_* variables (else the Azure CLI); the tenant
    is --tenant, else the stack file's, else the credentials'."""
    wanted_tenant = (tenant or present.tenant_id or environ.get("ARM_TENANT_ID") or "").lower() or None
    choice = choose_cloud(present.provider_settings, environ)
    problems = unknown_cloud_problems(choice)  # the rule pulumi up's providers follow
    if problems:
        raise ConfigError(problems, heading="Invalid Azure cloud setting")
    try:
        reads = reader_from_environment(
            environ, resolve_cloud(choice), wanted_tenant, settings=present.provider_settings
        )
        reads.set_deadline(INIT_READ_SECONDS, f"{INIT_READ_SECONDS:.0f} s init's reads may take")
        actual = reads.credentials_tenant()
    except (ValueError, TypeError) as error:
        raise _NoCredentialsError(f"cannot sign in ({error}); pass --tenant <tenant id> or set ARM_TENANT_ID") from None
    except (AzureReadError, AzureError) as error:
        raise _CredentialsError(f"cannot sign in: {error}\n    fix: {login_fix(None, None)}") from None
    except SignInError as error:
        kind = _NoCredentialsError if error.unavailable else _CredentialsError
        fix = login_fix(None, None, az_missing=error.az_missing)
        raise kind(f"cannot sign in: {error.message}\n    fix: {fix}") from None
    if actual is None:
        raise _CredentialsError("the credentials' token names no tenant; pass --tenant <tenant id>")
    if wanted_tenant and actual != wanted_tenant:
        raise _CredentialsError(
            f"the credentials belong to tenant {actual}, but the stack is for tenant {wanted_tenant}\n"
            f"    fix: {login_fix(wanted_tenant, None)}"
        )
    return reads, actual
