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

from backline_access.config.identifiers import GUID_PATTERN
from backline_access.config.roles import AKS_RBAC_READER, READER
from backline_access.review.offline import OfflineRun

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


# --- the read side: what it sends, what it parses, and what the fake Azure answers ---------------


def test_the_resource_graph_request_we_send_is_a_query_request(reference: Path, serve: Callable[..., Any]) -> None:
    from fake_azure import Cluster
    from fake_azure import Estate as FakeEstate

    from backline_access.azure import reader_from_provider_token, resolve_cloud
    from backline_access.config.clouds import CloudChoice

    spec = load(reference / "azure/resourcegraph/resourcegraph.json")["definitions"]
    fake = serve(FakeEstate(TENANT, [SUB_A], clusters=[Cluster(SUB_A, "rg", f"aks-{i}") for i in range(3)]))
    reader = reader_from_provider_token(resolve_cloud(CloudChoice(metadata_host=fake.host)), fake.issue_token())
    reader.clusters_in([SUB_A])
    [request] = fake.calls("POST", "ResourceGraph")
    assert set(request.body) <= set(spec["QueryRequest"]["properties"])
    assert set(spec["QueryRequest"]["required"]) <= set(request.body)
    assert set(request.body["options"]) <= set(spec["QueryRequestOptions"]["properties"])
    assert request.body["options"]["resultFormat"] in spec["QueryRequestOptions"]["properties"]["resultFormat"]["enum"]
    assert request.query["api-version"] == load(reference / "azure/resourcegraph/resourcegraph.json")["info"]["version"]


def test_the_fakes_answers_have_the_shapes_of_the_specs(reference: Path, serve: Callable[..., Any]) -> None:
    from fake_azure import Assignment, Cluster
    from fake_azure import Estate as FakeEstate

    rg_spec = load(reference / "azure/resourcegraph/resourcegraph.json")["definitions"]
    ra_spec = load(reference / "azure/authorization/authorization-RoleAssignmentsCalls.json")["definitions"]
    cluster_example = load(reference / "azure/containerservice/ManagedClustersList.json")
    metadata = load(reference / "azure/cloud-metadata/metadata-endpoints-2022-09-01.json")
    world = FakeEstate(
        TENANT,
        [SUB_A],
        clusters=[Cluster(SUB_A, "rg", "aks")],
        assignments=[Assignment("n", f"/subscriptions/{SUB_A}", f"/x/{READER.guid}", "p")],
    )
    fake = serve(world)
    token = {"authorization": f"Bearer {fake.issue_token()}"}
    _, _, graph_page = fake.handle(
        "POST",
        "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
        token | {"content-type": "application/json"},
        json.dumps(
            {
                "query": "resources | where type =~ 'microsoft.containerservice/managedclusters'",
                "subscriptions": [SUB_A],
            }
        ).encode(),
    )
    assert set(graph_page) <= set(rg_spec["QueryResponse"]["properties"])
    assert set(rg_spec["QueryResponse"]["required"]) <= set(graph_page)
    _, _, listed = fake.handle(
        "GET",
        f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
        token,
        b"",
    )
    [item] = listed["value"]
    assert set(item) <= set(ra_spec["RoleAssignment"]["properties"])
    assert set(item["properties"]) <= set(ra_spec["RoleAssignmentProperties"]["properties"])
    _, _, clusters = fake.handle(
        "GET",
        f"/subscriptions/{SUB_A}/providers/Microsoft.ContainerService/managedClusters?api-version=2024-05-01",
        token,
        b"",
    )
    assert set(clusters["value"][0]) <= set(cluster_example["responses"]["200"]["body"]["value"][0])
    assert set(fake._metadata()) <= set(metadata)
    assert set(fake._metadata()["authentication"]) <= set(metadata["authentication"])


def test_the_public_clouds_metadata_document_gives_the_public_endpoints(reference: Path) -> None:
    from backline_access.azure.identity import cloud_from_metadata
    from backline_access.config.clouds import PUBLIC

    cloud = cloud_from_metadata(load(reference / "azure/cloud-metadata/metadata-endpoints-2022-09-01.json"), "x")
    assert (cloud.login, cloud.resource_manager, cloud.graph) == (PUBLIC.login, PUBLIC.resource_manager, PUBLIC.graph)


def test_clusters_are_parsed_from_the_arm_examples(reference: Path) -> None:
    from backline_access.azure.reads import cluster_info

    listed = load(reference / "azure/containerservice/ManagedClustersList.json")["responses"]["200"]["body"]["value"]
    assert [info.azure_rbac for info in map(cluster_info, listed)] == [False] * len(listed)
    rbac = load(reference / "azure/containerservice/ManagedClustersCreate_UpdateWithEnableAzureRBAC.json")
    info = cluster_info(rbac["responses"]["200"]["body"])
    assert info.azure_rbac is True
    assert info.cluster.name == "clustername1"


def test_role_assignments_are_parsed_from_the_arm_example(reference: Path) -> None:
    from backline_access.azure.reads import assignment_info

    example = load(reference / "azure/authorization/examples/RoleAssignments_ListForSubscription.json")
    [item] = example["responses"]["200"]["body"]["value"]
    parsed = assignment_info(item)
    assert parsed.name == "b0f43c54-e787-4862-89b1-a653fa9cf747"
    assert parsed.role_guid == "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
    assert parsed.scope == "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
    assert parsed.principal_type == "User"


def test_management_group_descendants_are_parsed_from_the_arm_example(reference: Path) -> None:
    from backline_access.azure.reads import descendant_subscriptions

    example = load(reference / "azure/managementgroups/GetDescendants.json")
    items = example["responses"]["200"]["body"]["value"]
    expected = sorted(i["name"].lower() for i in items if i["type"].endswith("/subscriptions"))
    assert descendant_subscriptions(items) == expected
    assert expected  # the example does hold subscriptions
