"""Stack names as the Pulumi CLI takes them, and the stack file each one reads.

`--stack` is `stack`, `org/stack` or `org/project/stack` (the cloud backend's `parseStackName` in
pkg/backend/httpstate/backend.go splits on `/` into at most three parts). Each part holds only letters, digits,
`-`, `_` and `.`, at most 100 characters (`tokens.ParseStackName`, sdk/go/common/tokens/stack_name.go). The stack
file is `Pulumi.<stack>.yaml` beside `Pulumi.yaml`, named by the last part alone (`ProjectStackPath` in
sdk/go/common/workspace/paths.go).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .problems import ConfigError, Problem

_PART = re.compile(r"[A-Za-z0-9_.-]{1,100}")
NAME_FIX = "a stack name like prod, or myorg/prod, or myorg/backline-access/prod (as pulumi --stack takes it)"


@dataclass(frozen=True)
class StackName:
    given: str  # as the user wrote it, for the commands we print back
    name: str  # the stack's own name: Pulumi.<name>.yaml
    organization: str | None = None
    project: str | None = None

    @property
    def file_name(self) -> str:
        return f"Pulumi.{self.name}.yaml"


def parse_stack_name(text: str, option: str = "--stack") -> StackName:
    """A stack name, or a ConfigError naming the part Pulumi would refuse (before anything reads Azure)."""
    file_name = Path(text).name
    if file_name.lower().endswith((".yaml", ".yml")):
        stack = file_name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        raise ConfigError(
            [
                Problem(
                    option,
                    f"is a file name; {option} takes the stack's name (the file is Pulumi.<name>.yaml)",
                    f"{option} {stack}, or --config {text} to read that file",
                    text,
                )
            ],
            heading="Invalid stack name",
        )
    parts = text.split("/")
    if len(parts) > 3:
        raise _invalid(option, text, "has more than three parts; Pulumi takes stack, org/stack or org/project/stack")
    for part in parts:
        if not part:
            raise _invalid(option, text, "has an empty part")
        if not _PART.fullmatch(part):
            bad = next((c for c in part if not re.fullmatch(r"[A-Za-z0-9_.-]", c)), None)
            why = f"has {bad!r}" if bad else "has a part over 100 characters"
            raise _invalid(
                option, text, f"{why}; a stack name may only contain letters, digits, '-', '_' and '.' per part"
            )
    organization, project = (parts[0] if len(parts) > 1 else None), (parts[1] if len(parts) == 3 else None)
    return StackName(text, parts[-1], organization, project)


def _invalid(option: str, text: str, message: str) -> ConfigError:
    return ConfigError([Problem(option, message, NAME_FIX, text)], heading="Invalid stack name")


def project_folder(start: Path) -> Path | None:
    """The nearest folder at or above `start` with a Pulumi.yaml: where the project's stack files live."""
    return next((folder for folder in [start, *start.parents] if (folder / "Pulumi.yaml").is_file()), None)


def project_name(folder: Path) -> str | None:
    """The `name:` of the folder's Pulumi.yaml (None if it cannot be read)."""
    try:
        document = YAML(typ="safe", pure=True).load((folder / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError):
        return None
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else None


def stacks_in(folder: Path) -> list[str]:
    """The stacks whose files lie in the project folder."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


def project_of(stack: StackName, start: Path, option: str = "--stack") -> Path:
    """The project folder for a stack, checking that an `org/project/stack` names this project."""
    folder = project_folder(start)
    if folder is None:
        raise ConfigError(
            [
                Problem(
                    option,
                    f"needs a Pulumi.yaml in {start} or one of its parents",
                    "run from the project folder, or pass --config Pulumi.<stack>.yaml",
                    stack.given,
                )
            ],
            heading="No Pulumi project",
        )
    name = project_name(folder)
    if stack.project is not None and name is not None and stack.project != name:
        raise ConfigError(
            [
                Problem(
                    option,
                    f"names project '{stack.project}', but {folder / 'Pulumi.yaml'} is project '{name}'",
                    f"--stack {stack.organization}/{name}/{stack.name}, or --stack {stack.organization}/{stack.name}",
                    stack.given,
                )
            ],
            heading="Invalid stack name",
        )
    return folder


def stack_file(stack: StackName, start: Path, command: str) -> Path:
    """The existing stack file of `stack`; else a ConfigError listing the stacks there, with `command` to run."""
    folder = project_of(stack, start)
    path = folder / stack.file_name
    if path.is_file():
        return path
    stacks = stacks_in(folder)
    if not stacks:
        problem = Problem(
            "--stack",
            f"has no stack file {stack.file_name} in {folder}, and there are no stacks there",
            f"backline-access init --stack {stack.given} --tenant <tenant id> --cloud-sub <subscription id> "
            "(or pulumi stack init, then pulumi config set backline-access:tenantId <tenant id>)",
            stack.given,
        )
    else:
        problem = Problem(
            "--stack",
            f"has no stack file {stack.file_name} in {folder}; the stacks there: {', '.join(stacks)}"
            + _likely_meant(stack.name, stacks),
            f"backline-access {command} --stack {_closest(stack.name, stacks) or stacks[0]}",
            stack.given,
        )
    raise ConfigError([problem], heading="No such stack")


def _closest(name: str, stacks: list[str]) -> str | None:
    same_but_case = [s for s in stacks if s.lower() == name.lower()]
    if same_but_case:
        return same_but_case[0]
    close = difflib.get_close_matches(name, stacks, n=1, cutoff=0.6)
    return close[0] if close else None


def _likely_meant(name: str, stacks: list[str]) -> str:
    meant = _closest(name, stacks)
    if meant is None:
        return ""
    if meant.lower() == name.lower():
        return f" (stack names are case-sensitive: the file is Pulumi.{meant}.yaml)"
    return f" (did you mean {meant}?)"


def default_stack(start: Path, command: str) -> StackName:
    """The stack when neither --stack nor --config is given: the project's only stack; with several, the
    list to choose from (never a silent guess)."""
    folder = project_of(StackName("", ""), start)
    stacks = stacks_in(folder)
    if len(stacks) == 1:
        return StackName(stacks[0], stacks[0])
    if not stacks:
        raise ConfigError(
            [
                Problem(
                    "--stack",
                    f"is needed: there are no stack files (Pulumi.<stack>.yaml) in {folder}",
                    "backline-access init --stack <name> --tenant <tenant id> --cloud-sub <subscription id>",
                )
            ],
            heading="No stack",
        )
    raise ConfigError(
        [
            Problem(
                "--stack",
                f"is needed: {folder} has {len(stacks)} stacks ({', '.join(stacks)})",
                f"backline-access {command} --stack {stacks[0]}",
            )
        ],
        heading="Which stack?",
    )
