"""Where raw stack config comes from: the Pulumi runtime, or a `Pulumi.<stack>.yaml` file read the way the
Pulumi CLI hands it to a program (every value a string; lists and mappings as JSON)."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import config as runtime_config
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError

from .model import CONFIG_KEYS, NAMESPACE, AccessConfig, UndecodedJson, parse_config, validated_with
from .problems import ConfigError, Problem

PREFIX = f"{NAMESPACE}:"
# Namespaces of other packages' settings that a stack of this project may hold.
_FOREIGN_NAMESPACES = {"pulumi", "azure-native", "azuread", "azure"}
# Keys of a Pulumi.<stack>.yaml besides `config:`.
_STACK_FILE_KEYS = {"config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt"}


def config_from_pulumi() -> AccessConfig:
    """The validated config of the stack the engine runs."""
    return load_config({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def provider_config_from_pulumi() -> tuple[dict[str, Any], set[str]]:
    """All config the engine handed over (the providers' keys among it), and which keys are secrets."""
    handed_over = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in handed_over if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    return handed_over, secret_keys


def load_config(handed_over: Mapping[str, Any]) -> AccessConfig:
    """Validate handed-over config: every problem at once, keys of ours in another namespace included."""
    return validated_with(lambda: parse_config(namespace_config(handed_over)), stray_key_problems(handed_over))


def namespace_config(handed_over: Mapping[str, Any]) -> dict[str, Any]:
    """The `backline-access:*` keys of handed-over config, without the namespace, values decoded."""
    return {key[len(PREFIX) :]: _decode(value) for key, value in sorted(handed_over.items()) if key.startswith(PREFIX)}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            return UndecodedJson(value, f"{error.msg} at character {error.pos + 1}")
    return value


def stray_key_problems(handed_over: Mapping[str, Any]) -> list[Problem]:
    """Keys of ours under another namespace (`backline:tenantId`): the program would never read them."""
    known = {key.lower(): key for key in CONFIG_KEYS}
    problems = []
    for full_key in sorted(handed_over):
        namespace, _, key = full_key.rpartition(":")
        if namespace and namespace != NAMESPACE and namespace not in _FOREIGN_NAMESPACES and key.lower() in known:
            problems.append(
                Problem(
                    full_key,
                    f"is in namespace '{namespace}', which this program never reads; "
                    f"did you mean '{PREFIX}{known[key.lower()]}'?",
                    f"rename the key to {PREFIX}{known[key.lower()]}",
                )
            )
    return problems


def handed_over_config(stack_file: Path) -> dict[str, str]:
    """The config of a stack file as the Pulumi CLI passes it to the program (PULUMI_CONFIG)."""
    return handed_over_from_document(_load_yaml(stack_file), stack_file)


def handed_over_from_document(document: Mapping[str, Any], stack_file: Path) -> dict[str, str]:
    """The same, from a stack file's parsed document (one that is not on disk yet, say)."""
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(
            [Problem("config", "must be a mapping of keys to values", value=config)],
            heading=f"Invalid stack file {stack_file}",
        )
    handed_over = {_namespaced(str(key)): _as_cli_string(value) for key, value in config.items()}
    problems = _misplaced_key_problems(document, handed_over)
    if problems:
        raise ConfigError(problems, heading=f"Invalid stack file {stack_file}")
    return handed_over


def _misplaced_key_problems(document: Mapping[str, Any], handed_over: Mapping[str, str]) -> list[Problem]:
    """Keys of ours beside `config:` instead of under it, and stack config that lives in Pulumi ESC."""
    known = {key.lower() for key in CONFIG_KEYS}
    problems = [
        Problem(
            str(key),
            "is at the top level of the stack file, beside 'config:'; the program reads only keys under 'config:'",
            f"indent it under 'config:' as {_namespaced(str(key).rpartition(':')[2])}",
        )
        for key in document
        if str(key).lower() not in _STACK_FILE_KEYS and str(key).rpartition(":")[2].lower() in known
    ]
    if "environment" in document and f"{PREFIX}tenantId" not in handed_over:
        problems.append(
            Problem(
                "environment",
                "imports Pulumi ESC environment(s), which only the Pulumi CLI resolves; backline-access plan reads "
                "the stack file alone and finds no backline-access:tenantId in it",
                "put the backline-access keys under 'config:' in the stack file (or pass --config with a file that "
                "has them)",
                value=document["environment"],
            )
        )
    return problems


def _load_yaml(path: Path) -> dict[str, Any]:
    return _parse_yaml(path, stack_file_text(path))


def stack_file_text(path: Path) -> str:
    """The text of a stack file, or a ConfigError that says why it cannot be read (encoding, permissions)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([Problem(str(path), f"cannot be read: {error.strerror}")], heading="No stack file") from None
    return _as_text(path, data)


def _parse_yaml(path: Path, text: str) -> dict[str, Any]:
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except DuplicateKeyError as error:
        raise ConfigError([_duplicate_key_problem(path, text, error)], heading="Invalid stack file") from None
    except YAMLError as error:
        raise ConfigError([_yaml_problem(path, text, error)], heading="Invalid stack file") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(
            [Problem(str(path), "must be a YAML mapping with a 'config' key")], heading="Invalid stack file"
        )
    return document


_TO_UTF8 = "save it as UTF-8: iconv -f {source} -t UTF-8 {path} > fixed.yaml && mv fixed.yaml {path}"


# What a file that is not text at all starts with: named, so that nobody converts it as if it were text.
_NOT_TEXT = {
    b"\x1f\x8b": "gzip-compressed data",
    b"PK\x03\x04": "a zip archive",
    b"\x28\xb5\x2f\xfd": "zstd-compressed data",
    b"\x7fELF": "a program (ELF)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
}


def _utf16(data: bytes) -> str | None:
    """The UTF-16 variant of a text file (a byte order mark, or ASCII text with every other byte zero)."""
    if data.startswith(codecs.BOM_UTF16_LE):
        return "UTF-16LE"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "UTF-16BE"
    head = data[:64]
    if len(head) >= 4 and not any(head[1::2]) and all(32 <= b < 127 or b in (9, 10, 13) for b in head[0::2]):
        return "UTF-16LE"
    if len(head) >= 4 and not any(head[0::2]) and all(32 <= b < 127 or b in (9, 10, 13) for b in head[1::2]):
        return "UTF-16BE"
    return None


def _not_text(path: Path, data: bytes) -> ConfigError | None:
    kind = next((what for magic, what in _NOT_TEXT.items() if data.startswith(magic)), None)
    if kind is None and b"\x00" in data[:1024]:
        kind = "binary data"
    if kind is None:
        return None
    return ConfigError(
        [
            Problem(
                str(path),
                f"is not a text file: it holds {kind}, and a stack file is YAML text",
                "check the path: --config takes a Pulumi.<stack>.yaml (the stack file itself, not an archive or "
                "a copy of it)",
            )
        ],
        heading="Invalid stack file",
    )


def _as_text(path: Path, data: bytes) -> str:
    """The file's text, or a problem that names the encoding and how to convert it (or says it is no text)."""
    encoding = _utf16(data)
    if encoding is not None:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    f"is encoded as {encoding[:6]} (what Windows PowerShell's '>' and Out-File write); Pulumi and "
                    "this program read UTF-8",
                    _TO_UTF8.format(source=encoding, path=path)
                    + " (PowerShell: Get-Content FILE | Set-Content -Encoding utf8 FILE)",
                )
            ],
            heading="Invalid stack file",
        )
    not_text = _not_text(path, data)
    if not_text is not None:
        raise not_text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    f"is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); Pulumi and this "
                    "program read UTF-8",
                    _TO_UTF8.format(source="<its encoding, e.g. WINDOWS-1252>", path=path),
                )
            ],
            heading="Invalid stack file",
        ) from None


def _yaml_problem(path: Path, text: str, error: YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line if mark is not None else None
    if line is not None and "\t" in (text.splitlines() or [""])[min(line, len(text.splitlines()) - 1)]:
        return Problem(
            f"{path}:{line + 1}",
            "has a tab; YAML forbids tabs for indentation",
            "indent with spaces (two per level, as in Pulumi.dev.yaml)",
        )
    column = mark.column if mark is not None else None
    where = f"{path}:{line + 1}:{column + 1}" if line is not None and column is not None else str(path)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    shown = ""
    if line is not None and line < len(text.splitlines()):
        shown = f" (line {line + 1}: {text.splitlines()[line].strip()!r})"
    return Problem(
        where,
        f"is not valid YAML: {problem}{shown}",
        "check, on that line or the one above: the indentation under 'config:' (two spaces per level, the keys of "
        "one mapping in one column), a space after each ':' (key: value), and quotes around a value that starts "
        "with [ { * & ! | > % @ or a quote",
    )


def _duplicate_key_problem(path: Path, text: str, error: DuplicateKeyError) -> Problem:
    match = re.search(r'duplicate key "([^"]*)"', error.problem or "")
    key = match.group(1) if match else "?"
    again = error.problem_mark.line if error.problem_mark else 0
    start = error.context_mark.line if error.context_mark else 0
    indent = error.problem_mark.column if error.problem_mark else 0
    same_key = re.compile(rf"^ {{{indent}}}(?:- )?[\"']?{re.escape(key)}[\"']?\s*:")
    lines = text.splitlines()
    first = next((n for n in range(start, again) if same_key.match(lines[n])), start)
    return Problem(
        f"{path}:{again + 1}",
        f"repeats the key '{key}' of line {first + 1} in the same mapping; YAML would keep only one of them",
        "delete one of the two lines (or merge their values)",
    )


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{PREFIX}{key}"


def _as_cli_string(value: Any) -> str:
    if value is None:  # `key:` with nothing after it
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        # default=str: YAML also has dates and timestamps, which JSON does not.
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)
