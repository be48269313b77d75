"""The engine's answers about the stack's own state, and URNs, read as pulumi/pulumi v3.259.0 writes them; and the
fake backends held to the engine's rules, so that the program's tests against them mean something."""

from __future__ import annotations

import pytest
from fake_pulumi import CloudBackend, DiyBackend, stack_name_problem

from backline_access.deploy.stack_state import COMPONENT_TYPE, ROLE_ASSIGNMENT_TYPE, StackState, state_resources
from backline_access.deploy.urn import Urn
from backline_access.review.offline import AzureError, EngineCrash

PARENT = COMPONENT_TYPE


@pytest.mark.parametrize(
    ("urn", "name"),
    [
        # sdk/go/common/resource/urn/urn_test.go
        ("urn:pulumi:stack::project::type::some really ::^&\n*():: crazy name", "some really ::^&\n*():: crazy name"),
        ("urn:pulumi:stack::proj::type::a-name-with::many::name::separators", "a-name-with::many::name::separators"),
        (f"urn:pulumi:dev::backline-access::{PARENT}::team::backline", "team::backline"),
    ],
)
def test_a_urns_name_is_everything_after_the_third_separator(urn: str, name: str) -> None:
    parsed = Urn.parse(urn)
    assert parsed.name == name
    assert str(parsed) == urn


def test_a_childs_urn_carries_its_parents_whole_type_chain() -> None:
    grant = Urn.parse(
        f"urn:pulumi:dev::p::acme:index:Platform${PARENT}${ROLE_ASSIGNMENT_TYPE}::team::backline-reader-x"
    )
    assert grant.type == ROLE_ASSIGNMENT_TYPE
    assert grant.parent_type == f"acme:index:Platform${PARENT}"
    assert grant.name == "team::backline-reader-x"
    component = Urn.parse(f"urn:pulumi:dev::p::acme:index:Platform${PARENT}::team::backline")
    assert component.child(ROLE_ASSIGNMENT_TYPE, "team::backline-reader-x") == grant


@pytest.mark.parametrize("text", ["", "urn:pulumi:dev::p::t", "dev::p::t::n"])
def test_what_is_not_a_urn_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        Urn.parse(text)


def test_the_engines_answer_is_read_by_urn_type_and_outputs() -> None:
    # pkg/backend/backend.go GetStackResourceOutputs: {name, outputs: {URN: {type, outputs}}}
    grant = f"urn:pulumi:dev::backline-access::{PARENT}${ROLE_ASSIGNMENT_TYPE}::team::backline-reader-x"
    provider = f"urn:pulumi:dev::backline-access::{PARENT}$pulumi:providers:azure-native::team::backline-arm"
    answer = {
        "name": "organization/backline-access/dev",
        "outputs": {
            grant: {"type": ROLE_ASSIGNMENT_TYPE, "outputs": {"name": "0e6a5b7c", "scope": "/subscriptions/x"}},
            provider: {"type": "pulumi:providers:azure-native", "outputs": {}},
        },
    }
    state = StackState(state_resources(answer))
    [assignment] = state.of_type(ROLE_ASSIGNMENT_TYPE)
    assert assignment.urn.name == "team::backline-reader-x"  # not "backline-reader-x": rsplit would say so
    assert assignment.in_component
    assert assignment.value("scope") == "/subscriptions/x"
    assert state.known
    assert StackState(state_resources({"name": "dev", "outputs": {}})).resources == ()


def test_a_value_missing_from_the_outputs_is_read_from_azure_natives_inputs() -> None:
    urn = Urn.parse(f"urn:pulumi:dev::p::{PARENT}${ROLE_ASSIGNMENT_TYPE}::backline-reader-x")
    [resource] = state_resources(
        {"outputs": {str(urn): {"type": ROLE_ASSIGNMENT_TYPE, "outputs": {"__inputs": {"roleAssignmentName": "n"}}}}}
    )
    assert resource.value("roleAssignmentName") == "n"
    assert resource.value("scope") == ""


# --- the fake backends follow the engine's rules --------------------------------------------------------


def test_stack_names_are_refused_with_the_engines_words() -> None:
    # sdk/go/common/tokens/stack_name.go ParseStackName
    assert stack_name_problem("organization/backline-access/dev") == (
        "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
        "invalid character '/' at position 12"
    )
    assert stack_name_problem("") == "a stack name may not be empty"
    assert stack_name_problem("x" * 101) == "a stack name cannot exceed 100 characters"
    assert stack_name_problem("prod_1.a-b") is None


def test_a_never_deployed_diy_stack_answers_empty_outputs_and_crashes_the_cli_on_resources() -> None:
    backend = DiyBackend()
    assert backend.stack_outputs("organization/backline-access/dev")["outputs"] == {}
    with pytest.raises(EngineCrash, match="nil pointer dereference"):
        backend.stack_resources("organization/backline-access/dev")
    assert backend.crashed


def test_the_legacy_diy_layout_refuses_a_qualified_name_and_takes_the_bare_one() -> None:
    backend = DiyBackend(layout="legacy")
    with pytest.raises(AzureError, match="invalid character '/' at position 12"):
        backend.stack_outputs("organization/backline-access/dev")
    assert backend.stack_outputs("dev")["outputs"] == {}


def test_the_project_diy_layout_takes_only_the_organization_named_organization() -> None:
    backend = DiyBackend()
    assert backend.key("dev") == backend.key("organization/dev") == backend.key("organization/backline-access/dev")
    with pytest.raises(ValueError, match="organization name must be 'organization'"):
        backend.key("acme/backline-access/dev")


def test_on_pulumi_cloud_a_bare_name_is_the_default_organizations_stack() -> None:
    backend = CloudBackend(organization="acme", default_organization="me")
    assert backend.key("dev") == "me/backline-access/dev"
    assert backend.key("acme/backline-access/dev") == "acme/backline-access/dev"
    assert backend.stack_resources("acme/backline-access/dev") == {
        "name": "acme/backline-access/dev",
        "outputs": {},
    }  # a new stack on Pulumi Cloud exports as an empty deployment
    with pytest.raises(AzureError, match='unknown stack "dev"'):
        backend.stack_outputs("dev")
