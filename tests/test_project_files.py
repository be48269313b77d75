"""The project's own files stay true to the code: schema, example stack, defaults, dependencies."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, SUB_A, SUB_B, TENANT
from ruamel.yaml import YAML
from test_config import BAD_CONFIGS

from backline_access.config.model import AccessConfig, parse_config
from backline_access.config.problems import ConfigError
from backline_access.config.schema import SCHEMA_FILE, stack_file_schema
from backline_access.config.source import handed_over_config, namespace_config


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
    requirements = [line for line in lines if line and not line.startswith(("#", "-c "))]
    assert requirements == pyproject["project"]["dependencies"]
    assert "-c constraints.txt" in lines


def test_constraints_pin_every_dependency_within_its_range() -> None:
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-").replace(".", "-")] = version
    wanted = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["test"]
    for text in wanted:
        requirement = Requirement(text)
        key = requirement.name.lower().replace("_", "-").replace(".", "-")
        assert key in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[key]), f"{requirement.name}=={pins[key]} is outside {text}"


def test_pulumi_uses_the_quick_starts_virtual_environment() -> None:
    runtime = yaml_file(REPO / "Pulumi.yaml")["runtime"]
    assert isinstance(runtime, dict)
    assert runtime["options"]["virtualenv"] == ".venv"
    assert ".venv/bin/pip install" in (REPO / "README.md").read_text(encoding="utf-8")


# --- one rule in the program and the schema ----------------------------------------------------

# Problems between fields (or between keys and the estate) that a JSON Schema cannot express.
SCHEMA_BLIND = {
    "duplicate subscription differing in case",
    "same cluster twice, once as id",
    "same aks subscription twice",
    "cluster id of another subscription",
    "cluster mapping naming another subscription",
    "nothing to grant",
    "deleteOnDestroy with existing",
    "aks all: true beside clusters",
    "aks entry without clusters",
    "management group listed twice",
}

VALID_CONFIGS: dict[str, dict[str, object]] = {
    "subscriptions only": {"tenantId": TENANT, "subscriptions": [SUB_A, SUB_B.upper()]},
    "cluster ids as az prints them (/resourcegroups/)": {
        "tenantId": TENANT,
        "aks": [
            {
                "subscription": SUB_A,
                "clusters": [
                    f"/subscriptions/{SUB_A}/resourcegroups/rg-prod/providers/microsoft.containerservice/"
                    "managedClusters/aks-prod"
                ],
            }
        ],
    },
    "a cluster mapping naming its own subscription": {
        "tenantId": TENANT,
        "subscriptions": [SUB_A],
        "aks": [{"subscription": SUB_A, "clusters": [{"subscription": SUB_A, "resourceGroup": "rg.(1)", "name": "a"}]}],
    },
    "every cluster of a subscription, but one": {
        "tenantId": TENANT,
        "subscriptions": [SUB_A],
        "aks": [{"subscription": SUB_A, "all": True, "exclude": [{"resourceGroup": "rg", "name": "aks-dev"}]}],
    },
    "every service principal setting": {
        "tenantId": TENANT,
        "subscriptions": [SUB_A],
        "servicePrincipal": {"mode": "existing", "objectId": "99999999-9999-4999-8999-999999999999"},
        "aksRequireAzureRbac": True,
    },
}


def as_stack_file(raw: dict[str, object]) -> dict[str, object]:
    return {"config": {f"backline-access:{key}": value for key, value in raw.items()}}


@pytest.mark.parametrize("raw", VALID_CONFIGS.values(), ids=list(VALID_CONFIGS))
def test_what_the_program_accepts_the_schema_accepts(raw: dict[str, object]) -> None:
    parse_config(raw)
    jsonschema.validate(as_stack_file(raw), stack_file_schema(), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("name", "raw"), [(name, raw) for name, raw, _ in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_what_the_program_rejects_the_schema_rejects_unless_it_is_between_fields(
    name: str, raw: dict[str, object]
) -> None:
    with pytest.raises(ConfigError):
        parse_config(raw)
    errors = list(jsonschema.Draft202012Validator(stack_file_schema()).iter_errors(as_stack_file(raw)))
    if name in SCHEMA_BLIND:
        assert errors == [], f"{name}: the schema sees it after all; drop it from SCHEMA_BLIND"
    else:
        assert errors, f"{name}: rejected by the program, accepted by the schema"


def test_the_azure_native_floor_has_the_fix_for_imported_role_assignment_scopes() -> None:
    # pulumi/pulumi-azure-native#4818 (merged 2026-08-29) keeps the leading `/` of an imported scope; releases
    # built before it (3.26.0 on 2026-08-13) show a replace after every RoleAssignment import.
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    [azure_native] = [
        r for r in map(Requirement, pyproject["project"]["dependencies"]) if r.name == "pulumi-azure-native"
    ]
    assert not azure_native.specifier.contains("3.26.0")
    assert azure_native.specifier.contains("3.29.0")
