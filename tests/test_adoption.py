"""Adopting access that already exists, through the program under the mock engine: what is adopted (and how
it is declared), what is not, and what is only warned about."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import ONE_CLUSTER_STACK, SP_OBJECT_ID, SUB_A, SUB_B, Estate, checkpoint_of

from backline_access.azure import RoleAssignmentInfo
from backline_access.config.roles import AKS_RBAC_READER, READER, assignment_name
from backline_access.deploy.preflight import PreflightError
from backline_access.deploy.stack_state import role_assignment_names
from backline_access.review.offline import AzureError, OfflineRun

RunStack = Callable[..., OfflineRun]
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CLUSTER = f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"
CONFIG = ONE_CLUSTER_STACK + f"  backline-access:servicePrincipal: {{objectId: {SP_OBJECT_ID}}}\n"


def existing(
    scope: str,
    guid: str = READER.guid,
    name: str = "0e6a5b7c-1d2e-4f30-8a1b-2c3d4e5f6a7b",
    principal: str = SP_OBJECT_ID,
    **extra: str,
) -> RoleAssignmentInfo:
    subscription = scope.split("/")[2]
    return RoleAssignmentInfo(
        id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        name=name,
        scope=scope,
        role_definition_id=f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        principal_id=principal,
        principal_type="ServicePrincipal",
        **extra,  # type: ignore[arg-type]
    )


def by_scope(run: OfflineRun) -> dict[str, dict[str, object]]:
    return {r.inputs["scope"]: {"import": r.import_id, **r.inputs} for r in run.of_type(ASSIGNMENT)}


def test_a_hand_made_assignment_with_a_description_is_adopted_as_it_is(run_stack: RunStack) -> None:
    made = existing(f"/subscriptions/{SUB_B}", description="Backline, granted by hand in 2025")
    found = by_scope(run_stack(CONFIG, Estate(assignments=[made])))[f"/subscriptions/{SUB_B}"]
    assert found["import"] == made.id
    assert found["roleAssignmentName"] == made.name
    assert found["description"] == "Backline, granted by hand in 2025"
    assert found["roleDefinitionId"] == made.role_definition_id


def test_a_lost_stacks_own_assignment_is_imported_as_its_ids_text(run_stack: RunStack) -> None:
    ours = assignment_name(CLUSTER, AKS_RBAC_READER)
    lost = existing(CLUSTER.replace("/resourceGroups/", "/resourcegroups/"), AKS_RBAC_READER.guid, name=ours)
    estate = Estate(assignments=[lost])  # and an empty checkpoint: the state is gone
    [found] = [r for r in run_stack(CONFIG, estate).of_type(ASSIGNMENT) if "managedClusters" in r.inputs["scope"]]
    assert found.import_id == lost.id  # the id ARM gives it
    # azure-native reads scope and roleAssignmentName back from the import id's text: declared the same
    assert found.inputs["scope"] == lost.id.split("/providers/Microsoft.Authorization/")[0]
    assert found.inputs["scope"] != CLUSTER
    assert found.inputs["roleAssignmentName"] == ours
    assert found.ignore_changes == ()
    assert estate.stack_reads == ["organization/backline-access/dev"]  # asked of the engine, fully qualified


def test_a_script_assignment_is_declared_with_the_scope_of_its_id_not_of_its_body(run_stack: RunStack) -> None:
    spelled = CLUSTER.replace("/resourceGroups/", "/resourcegroups/")
    made = RoleAssignmentInfo(
        id=f"{spelled}/providers/microsoft.authorization/roleassignments/0e6a5b7c-1d2e-4f30-8a1b-2c3d4e5f6a7b",
        name="0e6a5b7c-1d2e-4f30-8a1b-2c3d4e5f6a7b",
        scope=CLUSTER,  # properties.scope, spelled otherwise than the id
        role_definition_id=f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_RBAC_READER.guid}",
        principal_id=SP_OBJECT_ID,
        principal_type="ServicePrincipal",
    )
    [found] = [r for r in run_stack(CONFIG, Estate(assignments=[made])).of_type(ASSIGNMENT) if r.import_id]
    assert found.import_id == made.id
    assert found.inputs["scope"] == spelled
    assert found.inputs["roleAssignmentName"] == made.name


def test_a_second_run_declares_every_grant_it_manages_without_an_import_id(run_stack: RunStack) -> None:
    made = existing(f"/subscriptions/{SUB_B}")  # the script's Reader: adopted on the first run
    first = run_stack(CONFIG, Estate(assignments=[made]))
    assert [r.import_id for r in first.of_type(ASSIGNMENT) if r.import_id] == [made.id]
    # Azure now lists all three, ours with another spelling of the resource group segment.
    ours = [
        existing(f"/subscriptions/{SUB_A}", name=assignment_name(f"/subscriptions/{SUB_A}", READER)),
        existing(
            CLUSTER.replace("/resourceGroups/", "/resourcegroups/"),
            AKS_RBAC_READER.guid,
            name=assignment_name(CLUSTER, AKS_RBAC_READER),
        ),
    ]
    second = run_stack(CONFIG, Estate(assignments=[made, *ours], checkpoint=checkpoint_of(first)))
    declared = second.of_type(ASSIGNMENT)
    assert len(declared) == 3
    assert [r.import_id for r in declared] == ["", "", ""]
    assert all(r.ignore_changes == ("scope", "roleDefinitionId") for r in declared)
    assert {r.name: r.inputs["roleAssignmentName"] for r in declared} == {
        r.name: r.inputs["roleAssignmentName"] for r in first.of_type(ASSIGNMENT)
    }


def test_a_conditional_reader_at_a_planned_scope_stops_the_run_before_anything_is_registered(
    run_stack: RunStack,
) -> None:
    conditional = existing(f"/subscriptions/{SUB_B}", condition="@Resource[x] StringEquals 'y'")
    estate = Estate(assignments=[conditional])
    with pytest.raises(PreflightError) as error:
        run_stack(CONFIG, estate)
    message = str(error.value)
    assert f"assignment {conditional.id} has the condition \"@Resource[x] StringEquals 'y'\"" in message
    assert "409 RoleAssignmentExists" in message
    assert "remove the condition" in message
    assert f"az role assignment delete --ids {conditional.id}" in message
    assert [t for t, _ in estate.created if t == ASSIGNMENT] == []


def test_a_backend_that_cannot_say_what_the_stack_manages_stops_the_run(run_stack: RunStack) -> None:
    class NoBackend(Estate):
        def answer_stack_resources(self, stack_name: str) -> dict[str, object]:
            self.stack_reads.append(stack_name)
            raise AzureError("no backend client is available")  # the built-in provider's words

    estate = NoBackend(assignments=[existing(f"/subscriptions/{SUB_B}")])
    with pytest.raises(PreflightError) as error:
        run_stack(CONFIG, estate)
    assert "Cannot read this stack's own state from the Pulumi backend" in str(error.value)
    assert "organization/backline-access/dev: " in str(error.value)
    assert estate.stack_reads == ["organization/backline-access/dev", "dev"]  # then the legacy DIY name
    assert [t for t, _ in estate.created if t == ASSIGNMENT] == []


def test_the_engines_answer_is_read_by_urn_and_type() -> None:
    # pkg/resource/deploy/builtins.go readStackResourceOutputs: {name, outputs: {URN: {type, outputs}}}
    parent = "backline:index:BacklineAccess"
    answer = {
        "name": "organization/backline-access/dev",
        "outputs": {
            f"urn:pulumi:dev::backline-access::{parent}$azure-native:authorization:RoleAssignment::backline-reader-x": {
                "type": ASSIGNMENT,
                "outputs": {"name": "0e6a5b7c-1d2e-4f30-8a1b-2c3d4e5f6a7b"},
            },
            f"urn:pulumi:dev::backline-access::{parent}$pulumi:providers:azure-native::backline-arm": {
                "type": "pulumi:providers:azure-native",
                "outputs": {},
            },
        },
    }
    assert role_assignment_names(answer) == {"backline-reader-x"}
    assert role_assignment_names({"name": "dev", "outputs": {}}) == set()


def test_another_principal_or_another_role_is_never_adopted(run_stack: RunStack) -> None:
    others = [
        existing(f"/subscriptions/{SUB_A}", principal="12121212-1212-4212-8212-121212121212"),
        existing(CLUSTER, "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"),  # AKS RBAC Writer
    ]
    assignments = by_scope(run_stack(CONFIG, Estate(assignments=others)))
    assert all(found["import"] == "" for found in assignments.values())
    assert len(assignments) == 3


def test_a_backline_assignment_the_config_does_not_ask_for_is_warned_about_and_left_alone(run_stack: RunStack) -> None:
    stray = existing(f"/subscriptions/{SUB_A}/resourceGroups/rg-old", name="5f5f5f5f-5f5f-4f5f-8f5f-5f5f5f5f5f5f")
    run = run_stack(CONFIG, Estate(assignments=[stray]))
    [warning] = [w for w in run.warnings if "does not ask for" in w]
    assert f"at /subscriptions/{SUB_A}/resourceGroups/rg-old (assignment {stray.name})" in warning
    assert f"az role assignment delete --ids {stray.id}" in warning
    assert stray.scope not in by_scope(run)


def test_the_offline_plan_lists_adoption_as_not_checked(run_stack: RunStack) -> None:
    run = run_stack(CONFIG, Estate())
    assert any(
        read.startswith("adoption: existing role assignments of Backline's service principal") for read in run.reads
    )


def test_the_plan_says_which_grants_are_adopted_rather_than_created(stack_file: Callable[[str], object]) -> None:
    from backline_access.config.source import handed_over_config, load_config
    from backline_access.review.offline import run_offline
    from backline_access.review.report import plan_document

    made = existing(f"/subscriptions/{SUB_B}")
    handed_over = handed_over_config(stack_file(CONFIG))  # type: ignore[arg-type]
    document = plan_document(load_config(handed_over), run_offline(handed_over, azure=Estate(assignments=[made])))
    actions = {a["scope"]: (a["action"], a["importId"]) for a in document["assignments"]}
    assert actions[f"/subscriptions/{SUB_B}"] == ("adopt", made.id)
    assert actions[f"/subscriptions/{SUB_A}"] == ("create", None)
