"""JSON Schema of a `Pulumi.<stack>.yaml` for this project, generated from the config models.

The generated file ships as `backline_access/stack-config.schema.json`; a test fails when it is stale.
Regenerate it with `backline-access schema > backline_access/stack-config.schema.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import NAMESPACE, AccessConfig

SCHEMA_FILE = Path(__file__).parent.parent / "stack-config.schema.json"


def stack_file_schema() -> dict[str, Any]:
    model = _without_titles(AccessConfig.model_json_schema(by_alias=True, mode="validation"))
    definitions = model.pop("$defs", {})
    properties = {f"{NAMESPACE}:{key}": value for key, value in model["properties"].items()}
    known = sorted(properties)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://backline.ai/schemas/backline-access/stack-config.schema.json",
        "title": "Pulumi.<stack>.yaml for backline-access",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": model.get("description", ""),
                "properties": properties,
                "required": [f"{NAMESPACE}:{key}" for key in model.get("required", [])],
                # Other namespaces (providers, pulumi:*) are free; unknown keys of ours are typos.
                "propertyNames": {"anyOf": [{"enum": known}, {"not": {"pattern": f"^{NAMESPACE}:"}}]},
            }
        },
        "$defs": definitions,
    }


def _without_titles(node: Any) -> Any:
    """Drop pydantic's generated titles ('Tenantid'): descriptions say more, and editors show both."""
    if isinstance(node, dict):
        return {k: _without_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_without_titles(item) for item in node]
    return node
