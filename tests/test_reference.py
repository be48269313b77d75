"""What we send and parse, checked against data nobody here wrote: Azure REST specs and examples, the
built-in role definitions and the Pulumi project schema (../shared/reference)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO, SUB_A, TENANT, Estate, warnings_besides_placeholders
from ruamel.yaml import YAML

from backline_access.identifiers import GUID_PATTERN
from backline_access.offline import OfflineRun
from backline_access.roles import AKS_RBAC_READER, READER

RunStack = Callable[..., OfflineRun]
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CONFIG = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters: [{{resourceGroup: rg1, name: clustername1}}]
"""


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def arm_request_body(inputs: dict[str, Any]) -> dict[str, Any]:
    """The PUT body azure-native sends for a RoleAssignment: everything but the URL parts."""
    url_parts = {"scope", "roleAssignmentName"}
    return {"properties": {k: v for k, v in inputs.items() if k not in url_parts}}


def test_role_assignment_bodies_match_the_arm_create_parameters(reference: Path, run_stack: RunStack) -> None:
    spec = load(reference / "azure/authorization/authorization-RoleAssignmentsCalls.json")
    definitions = spec["definitions"]
    schema = {"$ref": "#/definitions/RoleAssignmentCreateParameters", "definitions": definitions}
    writable = {
        name for name, prop in definitions["RoleAssignmentProperties"]["properties"].items() if not prop.get("readOnly")
    }
    assignments = run_stack(CONFIG).of_type(ASSIGNMENT)
    assert len(assignments) == 2
    for assignment in assignments:
        body = arm_request_body(assignment.inputs)
        jsonschema.validate(body, schema, cls=jsonschema.Draft4Validator)
        assert set(body["properties"]) <= writable, set(body["properties"]) - writable


def test_assignment_ids_have_the_shape_of_the_arm_example(reference: Path, run_stack: RunStack) -> None:
    example = load(reference / "azure/authorization/examples/RoleAssignments_CreateForResource.json")
    request = example["parameters"]
    created = example["responses"]["201"]["body"]
    # ARM: id = "/" + scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, name a GUID.
    assert created["id"] == f"/{request['scope']}/providers/Microsoft.Authorization/roleAssignments/{created['name']}"
    for assignment in run_stack(CONFIG).of_type(ASSIGNMENT):
        inputs = assignment.inputs
        assert inputs["scope"].startswith("/subscriptions/") and not inputs["scope"].endswith("/")
        assert re.fullmatch(GUID_PATTERN, inputs["roleAssignmentName"])
        assert re.fullmatch(GUID_PATTERN, request["roleAssignmentName"])


@pytest.mark.parametrize(
    ("role", "file"), [(READER, "Reader.json"), (AKS_RBAC_READER, "AzureKubernetesServiceRBACReader.json")]
)
def test_role_ids_and_names_match_the_built_in_definitions(reference: Path, role: Any, file: str) -> None:
    definition = load(reference / "azure/builtin-roles" / file)
    assert definition["name"] == role.guid
    assert definition["roleName"] == role.name
    assert definition["roleType"] == "BuiltInRole"


def test_both_roles_are_read_only(reference: Path) -> None:
    for file in ("Reader.json", "AzureKubernetesServiceRBACReader.json"):
        for permission in load(reference / "azure/builtin-roles" / file)["permissions"]:
            for action in permission["actions"] + permission["dataActions"]:
                assert action.endswith("/read"), (file, action)


def as_invoke_result(arm_body: dict[str, Any]) -> dict[str, Any]:
    """azure-native flattens an ARM body's `properties` into the invoke result, as its SDK types show."""
    return {k: v for k, v in arm_body.items() if k != "properties"} | arm_body.get("properties", {})


def test_a_cluster_shaped_like_the_rbac_example_passes_the_preflight_quietly(
    reference: Path, run_stack: RunStack
) -> None:
    example = load(reference / "azure/containerservice/ManagedClustersCreate_UpdateWithEnableAzureRBAC.json")
    cluster = example["responses"]["200"]["body"]
    assert cluster["properties"]["aadProfile"]["enableAzureRBAC"] is True
    run = run_stack(CONFIG, Estate(clusters={"clustername1": as_invoke_result(cluster)}))
    assert warnings_besides_placeholders(run) == []


def test_a_cluster_shaped_like_the_plain_get_example_is_warned_about(reference: Path, run_stack: RunStack) -> None:
    cluster = load(reference / "azure/containerservice/ManagedClustersGet.json")["responses"]["200"]["body"]
    assert "aadProfile" not in cluster["properties"]
    run = run_stack(CONFIG, Estate(clusters={"clustername1": as_invoke_result(cluster)}))
    assert len(warnings_besides_placeholders(run)) == 1
    assert "--name clustername1 --enable-azure-rbac" in warnings_besides_placeholders(run)[0]


def test_pulumi_yaml_validates_against_the_pulumi_project_schema(reference: Path) -> None:
    schema = load(reference / "pulumi/project.json")
    project = YAML(typ="safe").load((REPO / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema, cls=jsonschema.validators.validator_for(schema))
    assert project["name"] == "backline-access"
    assert all(spec["type"] in ("string", "boolean", "integer", "array") for spec in project["config"].values())


def test_a_broken_pulumi_yaml_would_fail_that_schema(reference: Path) -> None:
    schema = load(reference / "pulumi/project.json")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"name": "backline-access", "runtime": 42},
            schema,
            cls=jsonschema.validators.validator_for(schema),
        )
