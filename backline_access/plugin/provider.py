"""The component provider that serves BacklineAccess to TypeScript, Go, C#, Java and YAML programs.

Pulumi's `ComponentProvider` (`pulumi/provider/experimental/component.py` at v3.272.0) infers the schema and
constructs the component; three of its ways do not suit a component whose inputs are a config with its own checks,
and are changed here:
- its input mapping (`map_input_properties`) keeps only the keys the schema knows and drops the rest without a word:
  here the inputs go to `parse_config` as they came, which names an unknown key as it does in a stack file;
- it wraps every exception from the constructor in `ComponentInitError`, which the server reports with a Python
  traceback (`server.py` `Construct`): here a user's error (a bad value, a failed preflight) is an
  `InputPropertiesError`, which the server turns into an INVALID_ARGUMENT status with the message alone and the engine
  prints under the component (`pkg/resource/deploy/source_eval.go` `errorToMessage`, 2190-2217 at v3.259.0);
- the schema's descriptions come from docstrings: here from `stack-config.schema.json`, the text a stack file's
  editor shows, so that both say the same.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.output import Unknown
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.runtime.sync_await import _sync_await

from ..config import ConfigError, stack_file_schema
from .component import BacklineAccess, BacklineAccessArgs

PACKAGE = "backline"
COMPONENT = BacklineAccess.__name__
INPUTS_HEADING = "Invalid BacklineAccess inputs"


class BacklineAccessProvider(ComponentProvider):
    def __init__(self, version: str) -> None:
        super().__init__([BacklineAccess], PACKAGE, PACKAGE, version)
        self.schema = json.dumps(described(json.loads(self.schema or "{}"), stack_file_schema()))

    def construct(
        self, name: str, resource_type: str, inputs: pulumi.Inputs, options: pulumi.ResourceOptions | None = None
    ) -> ConstructResult:
        self.validate_resource_type(PACKAGE, resource_type)
        args = known_inputs(inputs)
        try:
            component = BacklineAccess(name, cast(BacklineAccessArgs, args), options)
        except ConfigError as error:
            raise _invalid(ConfigError(error.problems, INPUTS_HEADING).render()) from None
        except pulumi.RunError as error:  # a failed preflight: its message says what to do
            raise _invalid(str(error)) from None
        return ConstructResult(component.urn, self.get_state(component, self._component_defs[COMPONENT]))


def known_inputs(inputs: pulumi.Inputs) -> dict[str, Any]:
    """The inputs as plain values. They decide which grants exist, so each must be known now: one that another
    resource computes during this update is an error naming it (a value with dependencies, known, is taken)."""
    unknown: list[str] = []
    plain = {key: _settled(value, key, unknown) for key, value in inputs.items()}
    if unknown:
        raise _invalid(
            f"{INPUTS_HEADING}: {', '.join(unknown)} not known before the update (computed by another resource). "
            "BacklineAccess decides which grants exist from its inputs before it registers anything, so they must "
            "be known at preview.\n"
            "    fix: pass a literal or a stack config value (pulumi config set ...), not another resource's output"
        )
    return plain


def _invalid(message: str) -> InputPropertiesError:
    """The error the server sends as INVALID_ARGUMENT with the message alone. The empty list of property errors is
    needed: without one, the server's status has no trailing metadata and aborting with it fails with an
    AttributeError instead (`server.py` `create_grpc_invalid_properties_status`, pulumi 3.272.0)."""
    return InputPropertiesError(message, [])


def _settled(value: Any, path: str, unknown: list[str]) -> Any:
    if isinstance(value, Unknown):
        unknown.append(path)
        return None
    if isinstance(value, pulumi.Output):
        if not _sync_await(value.is_known()):
            unknown.append(path)
            return None
        return _settled(_sync_await(value.future()), path, unknown)
    if isinstance(value, dict):
        return {key: _settled(item, f"{path}.{key}", unknown) for key, item in value.items()}
    if isinstance(value, list):
        return [_settled(item, f"{path}[{index}]", unknown) for index, item in enumerate(value)]
    return value


def described(schema: dict[str, Any], stack_schema: dict[str, Any]) -> dict[str, Any]:
    """The package schema with each input's and each type's description taken from the stack config schema: an
    input by its key, a type by its name (the same as the stack config schema's definition), an enum by the
    property it is the type of."""
    config = stack_schema["properties"]["config"]["properties"]
    definitions = stack_schema["$defs"]
    component = schema["resources"][f"{PACKAGE}:index:{COMPONENT}"]
    enum_descriptions: dict[str, str] = {}

    def describe(properties: dict[str, Any], source: dict[str, Any]) -> None:
        for key, spec in properties.items():
            spec["description"] = _one_paragraph(source[key]["description"])
            reference = spec.get("$ref") or spec.get("items", {}).get("$ref", "")
            enum_descriptions[reference.rsplit("/", 1)[-1]] = spec["description"]

    describe(component["inputProperties"], {key.split(":", 1)[1]: value for key, value in config.items()})
    for token, spec in schema["types"].items():
        definition = definitions.get(token.rsplit(":", 1)[-1])
        if definition is not None:
            spec["description"] = _one_paragraph(definition["description"])
            describe(spec["properties"], definition["properties"])
    for token, spec in schema["types"].items():
        if "enum" in spec:
            spec["description"] = enum_descriptions[token]
            spec["enum"] = [{k: v for k, v in member.items() if v is not None} for member in spec["enum"]]
    component["description"] = _one_paragraph(component["description"])
    for spec in component["properties"].values():
        spec["description"] = _one_paragraph(spec["description"])
        for inner in ("items", "additionalProperties"):
            spec.get(inner, {}).pop("description", None)  # the analyzer repeats the property's own
    return schema


def _one_paragraph(docstring: str) -> str:
    """A docstring's text without its line breaks and indentation (SDKs wrap descriptions themselves)."""
    return " ".join(docstring.split())
