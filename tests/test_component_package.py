"""BacklineAccess as a component package: the plugin in `provider/`, started as the python language host starts it,
answering GetSchema, GetPluginInfo and Construct over gRPC, with the engine's monitor and the fake Azure behind it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import jsonschema
import pytest
from fake_azure import FakeAzureServer
from fake_engine import CONSUMER_PROJECT, CONSUMER_STACK, PLUGIN_DIR, ROOT_URN, FakeEngine, Plugin, started_plugin
from ruamel.yaml import YAML
from test_program_http import ASSIGNMENT, SERVICE_PRINCIPAL, SP, SUB_A, SUB_B, TENANT, ProviderOfFake, world

from backline_access import __version__
from backline_access.config import AKS_RBAC_READER, READER, parse_config, stack_file_schema
from backline_access.plugin.provider import BacklineAccessProvider

ROOT = Path(__file__).resolve().parent.parent
COMMITTED_SCHEMA = PLUGIN_DIR / "schema.json"
COMPONENT = "backline:index:BacklineAccess"
CLUSTER_ID = (
    f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"
)
NINE_OUTPUTS = {
    "tenantId",
    "subscriptionIds",
    "applicationId",
    "servicePrincipalObjectId",
    "readerAssignments",
    "aksAssignments",
    "managementGroupAssignments",
    "adminConsentUrl",
    "verificationCommands",
}
INPUTS = {
    "tenantId": TENANT,
    "subscriptions": [SUB_A, SUB_B],
    "aks": [{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": "aks-prod"}]}],
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAzureServer]:
    with FakeAzureServer(world(), tmp_path_factory.mktemp("ca") / "ca.pem") as server:
        yield server


@pytest.fixture(scope="module")
def served_engine(fake: FakeAzureServer) -> Iterator[FakeEngine]:
    started = FakeEngine(ProviderOfFake(fake))
    yield started
    started.close()


@pytest.fixture(scope="module")
def plugin(
    fake: FakeAzureServer, served_engine: FakeEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Plugin]:
    """One plugin process for the module (its start imports azure-native), talking to one engine, as under the
    Pulumi CLI; each test is a deployment of its own. The fake's CA and cloud reach the process as any process's
    would: through the environment."""
    environment = {
        "ARM_METADATA_HOSTNAME": fake.host,
        "REQUESTS_CA_BUNDLE": str(fake.ca_file),
        "SSL_CERT_FILE": str(fake.ca_file),
    }
    consumer = tmp_path_factory.mktemp("consumer-project")
    with started_plugin(served_engine.address, consumer, environment) as started:
        yield started


def in_package(schema: dict[str, Any]) -> dict[str, Any]:
    return dict(schema["resources"][COMPONENT])


# --- the schema ------------------------------------------------------------------------------------------------


def test_the_schema_the_plugin_serves_is_the_committed_copy(plugin: Plugin) -> None:
    served = json.loads(plugin.schema())
    assert served == json.loads(BacklineAccessProvider(__version__).schema or "")
    assert served == json.loads(COMMITTED_SCHEMA.read_text()), (
        "provider/schema.json is stale: backline-access schema --package > provider/schema.json"
    )
    assert served["name"] == "backline" and served["version"] == __version__
    assert list(served["resources"]) == [COMPONENT]  # the Python component's type token: URNs do not change
    assert plugin.version() == __version__


def metaschema(reference: Path) -> dict[str, Any]:
    """Pulumi's package metaschema (pkg/codegen/schema/pulumi.json at v3.259.0). Its patterns use Go's named groups
    `(?<name>`, which Python's `re` spells `(?P<name>`."""
    path = reference / "pulumi" / "package-metaschema.json"
    if not path.exists():
        pytest.skip(f"{path} is absent (the reference data lives beside the project, not in it)")
    text = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", path.read_text())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_schema_validates_against_pulumis_package_metaschema(reference: Path) -> None:
    meta = metaschema(reference)
    validator = jsonschema.validators.validator_for(meta)(meta)
    schema = json.loads(COMMITTED_SCHEMA.read_text())
    assert [error.message for error in validator.iter_errors(schema)] == []
    # the check can fail: the analyzer's own output, a null description in each enum member, does not pass
    broken = json.loads(COMMITTED_SCHEMA.read_text())
    broken["types"]["backline:index:ServicePrincipalMode"]["enum"][0]["description"] = None
    assert list(validator.iter_errors(broken))


def test_the_inputs_are_the_stack_configs_keys_with_its_descriptions() -> None:
    schema = json.loads(COMMITTED_SCHEMA.read_text())
    stack = stack_file_schema()
    config = {key.split(":", 1)[1]: value for key, value in stack["properties"]["config"]["properties"].items()}
    component = in_package(schema)
    assert set(component["inputProperties"]) == set(config)
    assert component["requiredInputs"] == [key.split(":", 1)[1] for key in stack["properties"]["config"]["required"]]
    for key, spec in component["inputProperties"].items():
        assert spec["description"] == " ".join(config[key]["description"].split()), key
        assert spec["plain"] is True  # they decide which grants exist: known at preview
    for name in ("AksSelection", "ClusterRef", "ServicePrincipalConfig"):
        ours, theirs = schema["types"][f"backline:index:{name}"], stack["$defs"][name]
        assert set(ours["properties"]) == set(theirs["properties"]), name
        assert ours["description"] == " ".join(theirs["description"].split())
        for key, spec in ours["properties"].items():
            assert spec["description"] == " ".join(theirs["properties"][key]["description"].split()), (name, key)
    assert schema["types"]["backline:index:ClusterRef"]["required"] == ["name", "resourceGroup"]
    modes = [m["value"] for m in schema["types"]["backline:index:ServicePrincipalMode"]["enum"]]
    assert modes == stack["$defs"]["ServicePrincipalConfig"]["properties"]["mode"]["enum"]
    grant_at = [m["value"] for m in schema["types"]["backline:index:AksGrantAt"]["enum"]]
    assert grant_at == stack["$defs"]["AksSelection"]["properties"]["grantAt"]["enum"]
    assert set(component["properties"]) == set(component["required"]) == NINE_OUTPUTS


# --- Construct ---------------------------------------------------------------------------------------------------


@pytest.fixture
def engine(fake: FakeAzureServer, served_engine: FakeEngine) -> Iterator[FakeEngine]:
    """A deployment of its own for each test; what an update made in the fake Azure is undone after it."""
    assignments = list(fake.estate.assignments)
    yield served_engine.reset(ProviderOfFake(fake))
    fake.estate.assignments[:] = assignments


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_construct_registers_the_grants_under_the_component_as_the_python_program_does(
    plugin: Plugin, engine: FakeEngine, fake: FakeAzureServer, preview: bool
) -> None:
    urn, outputs = plugin.construct(engine, "backline", INPUTS, preview=preview)
    assert urn == f"urn:pulumi:{CONSUMER_STACK}::{CONSUMER_PROJECT}::{COMPONENT}::backline"
    [component] = engine.of_type(COMPONENT)
    assert (component.urn, component.parent) == (urn, ROOT_URN)
    children = [r for r in engine.registrations if r.type != COMPONENT]
    assert {r.parent for r in children} == {urn}
    assert sorted(r.name for r in engine.of_type("pulumi:providers:azure-native")) == ["backline-arm"]
    assert sorted(r.name for r in engine.of_type("pulumi:providers:azuread")) == ["backline-graph"]
    [principal] = engine.of_type(SERVICE_PRINCIPAL)
    assert principal.import_id == f"/servicePrincipals/{SP}"  # the fake's principal, adopted
    grants = {(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]) for r in engine.of_type(ASSIGNMENT)}
    assert grants == {
        (f"/subscriptions/{SUB_A}", READER.guid),
        (f"/subscriptions/{SUB_B}", READER.guid),
        (CLUSTER_ID, AKS_RBAC_READER.guid),
    }
    assert set(outputs) == NINE_OUTPUTS
    assert outputs["tenantId"] == TENANT
    assert outputs["servicePrincipalObjectId"] == SP
    assert set(outputs["readerAssignments"]) == {SUB_A, SUB_B}
    assert set(outputs["aksAssignments"]) == {CLUSTER_ID}
    # the preflight read Azure over HTTPS as the provider's identity, from the plugin process
    assert fake.calls("POST", "ResourceGraph")


def test_a_consumers_providers_reach_every_child_and_the_component_makes_none(
    plugin: Plugin, engine: FakeEngine
) -> None:
    arm = engine.consumer_provider("azure-native", "estate-arm", {"tenantId": TENANT, "subscriptionId": SUB_A})
    graph = engine.consumer_provider("azuread", "estate-graph", {"tenantId": TENANT})
    plugin.construct(engine, "backline", INPUTS, providers={"azure-native": arm, "azuread": graph})
    made = [r for r in engine.registrations if r.type.startswith("pulumi:providers:") and r.parent != ROOT_URN]
    assert made == []
    assert {r.provider for r in engine.of_type(ASSIGNMENT)} == {arm}
    assert {r.provider for r in engine.of_type(SERVICE_PRINCIPAL)} == {graph}


def test_bad_values_fail_the_construct_with_the_stack_configs_messages_and_the_plugin_keeps_serving(
    plugin: Plugin, engine: FakeEngine
) -> None:
    bad = {
        "tenantId": TENANT,
        "subscriptions": [SUB_A],
        "aks": [{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": "aks prod!"}]}],
        "servicePrincipal": {"mode": "ensure", "objectID": "x"},
    }
    with pytest.raises(grpc.RpcError) as failure:
        plugin.construct(engine, "backline", bad)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = failure.value.details()
    assert message.startswith("Invalid BacklineAccess inputs (2 problems):\n")
    assert "  - aks[0].clusters[0].name: 'aks prod!' is not a valid AKS cluster name" in message
    assert f"    fix: az aks list --subscription {SUB_A}" in message
    # an unknown key is named, not dropped as Pulumi's input mapping would
    assert "  - servicePrincipal.objectID: 'x' is not a known key" in message and "did you mean 'objectId'?" in message
    assert "Traceback" not in message and 'File "' not in message
    assert engine.registrations == []  # checked before anything is registered
    # the process is alive and answers the next request
    assert json.loads(plugin.schema())["name"] == "backline"
    urn, _ = plugin.construct(engine, "backline", INPUTS)
    assert urn.endswith("::backline")


def test_a_stack_config_check_message_is_word_for_word_a_stack_files(plugin: Plugin, engine: FakeEngine) -> None:
    bad = {"tenantId": "not-a-tenant", "subscriptions": [SUB_A]}
    with pytest.raises(grpc.RpcError) as failure:
        plugin.construct(engine, "backline", bad)
    try:
        parse_config(bad)
    except Exception as error:  # noqa: BLE001 - the message is what is compared
        stack_file_message = str(error)
    body = stack_file_message.split("\n", 1)[1]
    assert failure.value.details() == "Invalid BacklineAccess inputs (1 problem):\n" + body


def test_an_input_unknown_at_preview_is_named_with_the_fix(plugin: Plugin, engine: FakeEngine) -> None:
    from pulumi.runtime.rpc import UNKNOWN

    with pytest.raises(grpc.RpcError) as failure:
        plugin.construct(engine, "backline", {**INPUTS, "subscriptions": [SUB_A, UNKNOWN]})
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = failure.value.details()
    assert message.startswith("Invalid BacklineAccess inputs: subscriptions[1] not known before the update")
    assert "fix: pass a literal or a stack config value" in message
    assert engine.registrations == []


def test_an_input_known_at_preview_is_taken_though_it_comes_from_another_resource(
    plugin: Plugin, engine: FakeEngine
) -> None:
    """With a dependency, the server hands the input over as an Output (`server.py` `_select_value`); known, its value
    is what counts."""
    source = f"urn:pulumi:{CONSUMER_STACK}::{CONSUMER_PROJECT}::azure-native:resources:ResourceGroup::tenant-source"
    plugin.construct(engine, "backline", INPUTS, dependencies={"tenantId": [source], "subscriptions": [source]})
    assert len(engine.of_type(ASSIGNMENT)) == 3


def test_a_failed_preflight_is_its_message_without_a_traceback(plugin: Plugin, engine: FakeEngine) -> None:
    gone = {**INPUTS, "aks": [{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg-prod", "name": "aks-gone"}]}]}
    with pytest.raises(grpc.RpcError) as failure:
        plugin.construct(engine, "backline", gone)
    message = failure.value.details()
    assert "AKS preflight failed for 1 cluster(s); nothing was granted" in message
    assert "AKS cluster 'aks-gone' (resource group 'rg-prod'" in message
    assert "Traceback" not in message
    assert engine.of_type(ASSIGNMENT) == []


# --- the examples ------------------------------------------------------------------------------------------------


def test_the_yaml_examples_properties_are_the_schemas_inputs_and_a_valid_config() -> None:
    program = YAML(typ="safe").load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    [resource] = [r for r in program["resources"].values() if r["type"] in ("backline:BacklineAccess", COMPONENT)]
    schema = json.loads(COMMITTED_SCHEMA.read_text())
    properties = resource["properties"]
    check_against(schema, in_package(schema)["inputProperties"], properties, "properties")
    assert set(in_package(schema)["requiredInputs"]) <= set(properties)
    literal = json.loads(json.dumps(properties).replace("${tenantId}", TENANT))
    parse_config(literal)
    assert program["packages"]["backline"].endswith(f"/provider@v{__version__}")


def check_against(schema: dict[str, Any], spec: dict[str, Any], value: Any, path: str) -> None:
    """A value against a property spec of a Pulumi package schema: names, types, enums, required keys."""
    if "$ref" in spec:
        spec = schema["types"][spec["$ref"].removeprefix("#/types/")]
    if "enum" in spec:
        assert value in [member["value"] for member in spec["enum"]], path
        return
    kind = spec.get("type")
    if kind == "array":
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            check_against(schema, spec["items"], item, f"{path}[{index}]")
    elif kind == "object" and "properties" in spec:
        assert isinstance(value, dict), path
        assert set(value) <= set(spec["properties"]), f"{path}: {set(value) - set(spec['properties'])}"
        assert set(spec.get("required", [])) <= set(value), path
        for key, item in value.items():
            check_against(schema, spec["properties"][key], item, f"{path}.{key}")
    elif kind == "string":
        assert isinstance(value, str), path
    elif kind == "boolean":
        assert isinstance(value, bool), path


def test_the_typescript_example_names_only_the_schemas_inputs() -> None:
    source = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    schema = json.loads(COMMITTED_SCHEMA.read_text())
    block = source.split("new backline.BacklineAccess(", 1)[1].split("\n});", 1)[0]
    top_level = set(re.findall(r"^    (\w+):", block, flags=re.MULTILINE))
    assert top_level and top_level <= set(in_package(schema)["inputProperties"])
    nested = set(re.findall(r"(\w+):", block)) - top_level
    known = {key for spec in schema["types"].values() for key in spec.get("properties", {})}
    assert nested <= known, nested - known
