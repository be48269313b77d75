"""The project's own files stay true to the code: schema, example stack, defaults, dependencies."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO
from ruamel.yaml import YAML

from backline_access.config import AccessConfig, parse_config
from backline_access.config_source import handed_over_config, namespace_config
from backline_access.schema import SCHEMA_FILE, stack_file_schema


def yaml_file(path: Path) -> dict[str, object]:
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_shipped_schema_is_the_one_the_models_generate() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert shipped == stack_file_schema(), (
        "stale: run `backline-access schema > backline_access/stack-config.schema.json`"
    )


def test_example_stack_validates_against_the_schema_and_the_models() -> None:
    example = REPO / "Pulumi.dev.yaml"
    jsonschema.validate(yaml_file(example), stack_file_schema(), cls=jsonschema.Draft202012Validator)
    config = parse_config(namespace_config(handed_over_config(example)))
    assert config.aks and config.subscriptions


def test_example_stack_shows_every_key() -> None:
    text = (REPO / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    for key in (
        "tenantId",
        "subscriptions",
        "aks",
        "servicePrincipal",
        "aksRequireAzureRbac",
        "mode",
        "objectId",
        "deleteOnDestroy",
        "resourceGroup",
        "clusters",
    ):
        assert f"{key}:" in text, key


@pytest.mark.parametrize(
    "bad",
    [
        {"config": {"backline-access:subscripton": []}},
        {"config": {"backline-access:tenantId": "{x}"}},
        {
            "config": {
                "backline-access:tenantId": "00000000-0000-0000-0000-000000000000",
                "backline-access:aks": [
                    {
                        "subscription": "00000000-0000-0000-0000-000000000000",
                        "clusters": [{"resourceGroup": "rg"}],
                    }
                ],
            }
        },
    ],
)
def test_schema_rejects_what_the_program_rejects(bad: dict[str, object]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, stack_file_schema(), cls=jsonschema.Draft202012Validator)


def test_schema_allows_other_namespaces() -> None:
    ok = {
        "config": {
            "backline-access:tenantId": "00000000-0000-0000-0000-000000000000",
            "azure-native:location": "x",
        }
    }
    jsonschema.validate(ok, stack_file_schema(), cls=jsonschema.Draft202012Validator)


def test_pulumi_yaml_declares_the_scalar_keys_with_the_model_defaults() -> None:
    declared = yaml_file(REPO / "Pulumi.yaml")["config"]
    assert isinstance(declared, dict)
    assert set(declared) == {"tenantId", "aksRequireAzureRbac"}
    assert "default" not in declared["tenantId"]
    default = AccessConfig.model_fields["aks_require_azure_rbac"].default
    assert declared["aksRequireAzureRbac"]["default"] is default


def test_requirements_txt_matches_the_package_dependencies() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == pyproject["project"]["dependencies"]
