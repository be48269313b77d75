"""The `backline-access` command: the offline plan and the stack config schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pulumi
import typer

from .config_source import handed_over_config, load_config
from .offline import run_offline
from .problems import ConfigError, Problem
from .report import plan_document, render_text
from .schema import stack_file_schema

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

EXIT_INVALID_CONFIG = 2
EXIT_FAILED = 1


class Format(StrEnum):
    text = "text"
    json = "json"


@app.command()
def plan(
    stack: Annotated[str, typer.Option(help="Stack name: reads Pulumi.<stack>.yaml beside Pulumi.yaml.")] = "dev",
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A stack config file to read instead of Pulumi.<stack>.yaml."),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="text for people, json for review bots.")
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
    if output_format is Format.json:
        typer.echo(json.dumps(document, indent=2))
    else:
        typer.echo(render_text(document))


@app.command()
def schema() -> None:
    """Print the JSON Schema of a Pulumi.<stack>.yaml for this project (for editors and CI linting)."""
    typer.echo(json.dumps(stack_file_schema(), indent=2))


def _stack_file(stack: str) -> Path:
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "Pulumi.yaml").is_file():
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
