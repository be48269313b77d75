"""Adopting access that already exists, through the program under the mock engine: what is adopted (and how
it is declared), what is not, and what is only warned about."""

from __future__ import annotations

from collections.abc import Callable

from conftest import ONE_CLUSTER_STACK, SP_OBJECT_ID, SUB_A, SUB_B, Estate

from backline_access.azure import RoleAssignmentInfo
from backline_access.config.roles import AKS_RBAC_READER, READER, assignment_name
from backline_access.review.offline import OfflineRun

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


def test_a_lost_stacks_own_assignment_is_adopted_with_the_plans_text(run_stack: RunStack) -> None:
    ours = assignment_name(CLUSTER, AKS_RBAC_READER)
    lost = existing(CLUSTER.replace("/resourceGroups/", "/resourcegroups/"), AKS_RBAC_READER.guid, name=ours)
    found = by_scope(run_stack(CONFIG, Estate(assignments=[lost])))[CLUSTER]
    assert found["import"] == lost.id  # the id ARM gives it
    assert found["roleAssignmentName"] == ours
    assert found["scope"] == CLUSTER  # as the stack that made it has it in its state


def test_another_principal_another_role_or_a_condition_is_never_adopted(run_stack: RunStack) -> None:
    others = [
        existing(f"/subscriptions/{SUB_A}", principal="12121212-1212-4212-8212-121212121212"),
        existing(CLUSTER, "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"),  # AKS RBAC Writer
        existing(f"/subscriptions/{SUB_B}", condition="@Resource[x] StringEquals 'y'"),
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
