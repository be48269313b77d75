"""Where raw stack config comes from: the Pulumi runtime, or a `Pulumi.<stack>.yaml` file read the way the
Pulumi CLI hands it to a program (every value a string; lists and mappings as JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import config as runtime_config
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .config import NAMESPACE
from .problems import ConfigError, Problem

PREFIX = f"{NAMESPACE}:"


def raw_config_from_pulumi() -> dict[str, Any]:
    """Every `backline-access:*` key the engine handed over, with structured values decoded."""
    return namespace_config({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def namespace_config(handed_over: Mapping[str, Any]) -> dict[str, Any]:
    """The `backline-access:*` keys of handed-over config, without the namespace, values decoded."""
    return {key[len(PREFIX) :]: _decode(value) for key, value in sorted(handed_over.items()) if key.startswith(PREFIX)}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def handed_over_config(stack_file: Path) -> dict[str, str]:
    """The config of a stack file as the Pulumi CLI passes it to the program (PULUMI_CONFIG)."""
    document = _load_yaml(stack_file)
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(
            [Problem("config", "must be a mapping of keys to values", value=config)],
            heading=f"Invalid stack file {stack_file}",
        )
    return {_namespaced(str(key)): _as_cli_string(value) for key, value in config.items()}


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([Problem(str(path), f"cannot be read: {error.strerror}")], heading="No stack file") from None
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise ConfigError([Problem(str(path), f"is not valid YAML: {error}")], heading="Invalid stack file") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(
            [Problem(str(path), "must be a YAML mapping with a 'config' key")], heading="Invalid stack file"
        )
    return document


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{PREFIX}{key}"


def _as_cli_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        # default=str: YAML also has dates and timestamps, which JSON does not.
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)
