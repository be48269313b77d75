"""Adopting access that already exists, through the program under the mock engine on each Pulumi backend: what
is adopted (and how it is declared), what is the stack's own, what a rename or a move keeps, what drift says, and
the steps the engine takes for each (creates, imports, deletes at the end of the update)."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
from conftest import ONE_CLUSTER_STACK, SP_OBJECT_ID, SUB_A, SUB_B, Estate
from fake_pulumi import CloudBackend, DiyBackend, FakeBackend

from backline_access import AccessConfig, BacklineAccess
from backline_access.azure import RoleAssignmentInfo
from backline_access.config import config_from_pulumi
from backline_access.config.roles import AKS_RBAC_READER, READER, assignment_name
from backline_access.config.source import handed_over_config
from backline_access.deploy.adoption import adoptable, equivalent, unrequested
from backline_access.deploy.preflight import PreflightError
from backline_access.plan import build_plan
from backline_access.review.offline import OfflineRun, run_offline

RunStack = Callable[..., OfflineRun]
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
COMPONENT = "backline:index:BacklineAccess"
CLUSTER = f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"
CONFIG = ONE_CLUSTER_STACK + f"  backline-access:servicePrincipal: {{objectId: {SP_OBJECT_ID}}}\n"
SCRIPT_NAME = "0e6a5b7c-1d2e-4f30-8a1b-2c3d4e5f6a7b"


def existing(
    scope: str,
    guid: str = READER.guid,
    name: str = SCRIPT_NAME,
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


def ours(scope: str, guid: str = READER.guid, spelled: str | None = None) -> RoleAssignmentInfo:
    """An assignment under this project's deterministic name, its scope as ARM spells it (`spelled`)."""
    role = READER if guid == READER.guid else AKS_RBAC_READER
    return existing(spelled or scope, guid, name=assignment_name(scope, role))


def script_grant() -> RoleAssignmentInfo:
    """The bash script's Reader on SUB_B: a random name."""
    return existing(f"/subscriptions/{SUB_B}")


def granted(run: OfflineRun, respell: bool = False) -> list[RoleAssignmentInfo]:
    """What Azure holds after an update: every grant the run declared, its id and scope spelled otherwise by ARM
    (`/RESOURCEGROUPS/`) when `respell`."""
    held = []
    for r in run.of_type(ASSIGNMENT):
        scope = str(r.inputs["scope"])
        if respell:
            scope = scope.replace("/resourceGroups/", "/RESOURCEGROUPS/").replace(
                "/resourcegroups/", "/RESOURCEGROUPS/"
            )
        held.append(
            existing(scope, str(r.inputs["roleDefinitionId"]).rsplit("/", 1)[-1], str(r.inputs["roleAssignmentName"]))
        )
    return held


def by_scope(run: OfflineRun) -> dict[str, dict[str, object]]:
    return {
        str(r.inputs["scope"]).lower(): {"import": r.import_id, "step": r.step, **r.inputs}
        for r in run.of_type(ASSIGNMENT)
    }


def steps(run: OfflineRun, type_: str = ASSIGNMENT) -> list[str]:
    return sorted(r.step for r in run.of_type(type_))


def program(name: str = "backline", wrap: str | None = None, export: bool = True) -> Callable[[], BacklineAccess]:
    """A customer's program: the component under `name`, optionally inside a component of their own (`wrap`),
    with or without exporting anything."""

    def build() -> BacklineAccess:
        opts = None
        if wrap is not None:
            outer = pulumi.ComponentResource("acme:index:Platform", wrap, None)
            opts = pulumi.ResourceOptions(parent=outer)
        access = BacklineAccess(name, config_from_pulumi(), opts=opts, reader=estate_of_run[0])
        if export:
            pulumi.export("tenantId", access.tenant_id)
        return access

    return build


estate_of_run: list[Estate] = []


def run_program(
    stack_file: Callable[[str], object],
    estate: Estate,
    build: Callable[[], BacklineAccess] | None = None,
    preview: bool = False,
) -> OfflineRun:
    estate_of_run[:] = [estate]
    handed_over = handed_over_config(stack_file(CONFIG))  # type: ignore[arg-type]
    return run_offline(handed_over, azure=estate, program=build, preview=preview)


BACKENDS: dict[str, Callable[[], FakeBackend]] = {
    "pulumi-cloud": CloudBackend,
    "diy-project": DiyBackend,
    "diy-legacy": lambda: DiyBackend(layout="legacy"),
}


# --- a first run: what the bash script or a person made ------------------------------------------------


def test_a_hand_made_assignment_with_a_description_is_adopted_as_it_is(run_stack: RunStack) -> None:
    made = existing(f"/subscriptions/{SUB_B}", description="Backline, granted by hand in 2025")
    found = by_scope(run_stack(CONFIG, Estate(assignments=[made])))[f"/subscriptions/{SUB_B}"]
    assert found["import"] == made.id
    assert found["step"] == "import"
    assert found["roleAssignmentName"] == made.name
    assert found["description"] == "Backline, granted by hand in 2025"
    assert found["roleDefinitionId"] == made.role_definition_id


def test_a_script_assignment_is_declared_with_the_scope_of_its_id_not_of_its_body(run_stack: RunStack) -> None:
    spelled = CLUSTER.replace("/resourceGroups/", "/resourcegroups/")
    made = RoleAssignmentInfo(
        id=f"{spelled}/providers/microsoft.authorization/roleassignments/{SCRIPT_NAME}",
        name=SCRIPT_NAME,
        scope=CLUSTER,  # properties.scope, spelled otherwise than the id
        role_definition_id=f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_RBAC_READER.guid}",
        principal_id=SP_OBJECT_ID,
        principal_type="ServicePrincipal",
    )
    [found] = [r for r in run_stack(CONFIG, Estate(assignments=[made])).of_type(ASSIGNMENT) if r.import_id]
    assert found.import_id == made.id
    assert found.inputs["scope"] == spelled
    assert found.inputs["roleAssignmentName"] == made.name


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_a_new_diy_stack_meeting_the_scripts_grants_never_asks_the_engine_for_its_resources(
    stack_file: Callable[[str], object], preview: bool
) -> None:
    backend = DiyBackend()  # pulumi stack init: the checkpoint's Latest is nil
    estate = Estate(assignments=[script_grant()], backend=backend)
    run = run_program(stack_file, estate, preview=preview)
    assert not backend.crashed
    assert backend.reads == [("pulumi:pulumi:readStackOutputs", "organization/backline-access/dev")]
    assert by_scope(run)[f"/subscriptions/{SUB_B}"]["import"] == script_grant().id
    assert run.deleted == []


def test_on_a_new_diy_stack_a_grant_under_this_projects_name_is_the_stacks_own_never_imported(
    run_stack: RunStack,
) -> None:
    lost = ours(CLUSTER, AKS_RBAC_READER.guid, spelled=CLUSTER.replace("/resourceGroups/", "/resourcegroups/"))
    run = run_stack(CONFIG, Estate(assignments=[lost], backend=DiyBackend()))
    [found] = [r for r in run.of_type(ASSIGNMENT) if "managedclusters" in str(r.inputs["scope"]).lower()]
    assert found.import_id == ""  # an import of a grant the state holds could replace it: delete it
    assert found.ignore_changes == ("scope", "roleDefinitionId")
    [warning] = [w for w in run.warnings if "this project's own names" in w]
    assert "the stack has no outputs" in warning
    assert "BACKLINE_ACCESS_STATE_LOST=true pulumi up" in warning
    assert "cannot create already existing resource" in warning


def test_a_lost_stacks_grants_are_imported_by_their_ids_text_with_the_one_run_switch(
    run_stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKLINE_ACCESS_STATE_LOST", "true")
    lost = ours(CLUSTER, AKS_RBAC_READER.guid, spelled=CLUSTER.replace("/resourceGroups/", "/resourcegroups/"))
    run = run_stack(CONFIG, Estate(assignments=[lost], backend=DiyBackend()))
    [found] = [r for r in run.of_type(ASSIGNMENT) if r.import_id]
    assert found.import_id == lost.id
    # azure-native reads scope and roleAssignmentName back from the import id's text: declared the same
    assert found.inputs["scope"] == CLUSTER.replace("/resourceGroups/", "/resourcegroups/")
    assert found.inputs["roleAssignmentName"] == assignment_name(CLUSTER, AKS_RBAC_READER)
    assert not [w for w in run.warnings if "this project's own names" in w]


def test_a_known_state_that_does_not_hold_our_named_grant_imports_it_and_the_switch_is_said_to_be_idle(
    run_stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKLINE_ACCESS_STATE_LOST", "true")
    lost = ours(f"/subscriptions/{SUB_A}")
    run = run_stack(CONFIG, Estate(assignments=[lost], backend=CloudBackend()))  # a new Cloud stack: known, empty
    assert by_scope(run)[f"/subscriptions/{SUB_A}"]["import"] == lost.id
    assert any("BACKLINE_ACCESS_STATE_LOST=true has no effect" in w for w in run.warnings)


# --- later runs on each backend -----------------------------------------------------------------------


@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_a_second_run_declares_what_the_stack_holds_with_no_import_id_on_every_backend(
    stack_file: Callable[[str], object], backend_kind: str
) -> None:
    backend = BACKENDS[backend_kind]()
    first = run_program(stack_file, Estate(assignments=[script_grant()], backend=backend))
    assert steps(first) == ["create", "create", "import"]
    backend.deploy(first)
    # Azure now lists all three, ARM spelling the resource group segment otherwise than the first run saw it.
    second = run_program(stack_file, Estate(assignments=granted(first, respell=True), backend=backend))
    assert [r.import_id for r in second.of_type(ASSIGNMENT)] == ["", "", ""]
    assert steps(second) == ["same", "same", "same"]
    assert second.deleted == []
    assert all(r.ignore_changes == ("scope", "roleDefinitionId") for r in second.of_type(ASSIGNMENT))
    assert not [w for w in second.warnings if "missing in Azure" in w]


def test_the_read_each_backend_gets_after_a_deployment(stack_file: Callable[[str], object]) -> None:
    reads = {}
    for kind, make in BACKENDS.items():
        backend = make()
        backend.deploy(run_program(stack_file, Estate(backend=backend)))
        backend.reads.clear()
        run_program(stack_file, Estate(assignments=[script_grant()], backend=backend))
        reads[kind] = backend.reads
    outputs, resources = "pulumi:pulumi:readStackOutputs", "pulumi:pulumi:readStackResourceOutputs"
    assert reads == {
        "pulumi-cloud": [(resources, "acme/backline-access/dev")],
        "diy-project": [(outputs, "organization/backline-access/dev"), (resources, "organization/backline-access/dev")],
        "diy-legacy": [(outputs, "organization/backline-access/dev"), (outputs, "dev"), (resources, "dev")],
    }


def test_a_failing_read_on_pulumi_cloud_stops_before_anything_is_registered_and_never_reads_the_default_org(
    stack_file: Callable[[str], object],
) -> None:
    backend = CloudBackend(organization="acme", default_organization="me")
    backend.stacks["me/backline-access/dev"] = None  # another stack, that a bare name would read
    backend.failures["acme/backline-access/dev"] = "[503] Service Unavailable"
    estate = Estate(assignments=[script_grant()], backend=backend)
    with pytest.raises(PreflightError) as error:
        run_program(stack_file, estate)
    message = str(error.value)
    assert "Cannot read this stack's own state from the Pulumi backend" in message
    assert "acme/backline-access/dev: invoke of pulumi:pulumi:readStackResourceOutputs failed: " in message
    assert "[503] Service Unavailable" in message
    assert "run again" in message and "pulumi whoami -v" in message
    assert backend.reads == [("pulumi:pulumi:readStackResourceOutputs", "acme/backline-access/dev")]
    assert estate.created == []  # not even the component


def test_a_diy_backend_that_fails_to_read_the_qualified_name_stops_the_run(stack_file: Callable[[str], object]) -> None:
    backend = DiyBackend()
    blob = "failed to load checkpoint: blob (code=Unknown): read tcp: connection reset by peer"
    backend.failures["organization/backline-access/dev"] = blob
    estate = Estate(assignments=[script_grant()], backend=backend)
    with pytest.raises(PreflightError, match="connection reset by peer"):
        run_program(stack_file, estate)
    assert backend.reads == [("pulumi:pulumi:readStackOutputs", "organization/backline-access/dev")]  # no fallback
    assert estate.created == []


def test_a_cli_that_no_longer_serves_the_invoke_stops_the_run_saying_so(stack_file: Callable[[str], object]) -> None:
    class Dropped(CloudBackend):
        def stack_resources(self, name: str) -> dict[str, object]:
            from backline_access.review.offline import AzureError

            raise AzureError("unrecognized function name: 'pulumi:pulumi:readStackResourceOutputs'")  # builtins.go:349

    with pytest.raises(PreflightError, match="this Pulumi CLI no longer serves pulumi:pulumi:readStackResourceOutputs"):
        run_program(stack_file, Estate(backend=Dropped()))


# --- a customer program that exports nothing ------------------------------------------------------------


def test_a_program_that_exports_nothing_on_diy_keeps_every_grant_on_its_second_run(
    stack_file: Callable[[str], object],
) -> None:
    backend = DiyBackend()
    build = program(export=False)
    first = run_program(stack_file, Estate(assignments=[script_grant()], backend=backend), build)
    backend.deploy(first)
    assert backend.current() is not None and backend.current().outputs == {}  # type: ignore[union-attr]
    second = run_program(stack_file, Estate(assignments=granted(first), backend=backend), build)
    # The state is unknown: our names are declared as the stack's own, the script's is imported by the same text
    # the state stores, which the engine takes as already imported (step_generator.go 1104-1113).
    assert steps(second) == ["same", "same", "same"]
    assert second.deleted == []
    assert ("pulumi:pulumi:readStackResourceOutputs", "organization/backline-access/dev") not in backend.reads


def test_a_program_that_exports_nothing_on_pulumi_cloud_reads_its_state(stack_file: Callable[[str], object]) -> None:
    backend = CloudBackend()
    build = program(export=False)
    backend.deploy(run_program(stack_file, Estate(assignments=[script_grant()], backend=backend), build))
    first_state = backend.latest()
    grants = [
        existing(e.outputs["scope"], e.outputs["roleDefinitionId"].rsplit("/", 1)[-1], e.outputs["name"])
        for e in first_state.values()
        if e.type == ASSIGNMENT
    ]
    second = run_program(stack_file, Estate(assignments=grants, backend=backend), build)
    assert steps(second) == ["same", "same", "same"]
    assert all(r.old_urn == r.urn for r in second.of_type(ASSIGNMENT))


# --- renames and moves ----------------------------------------------------------------------------------


def deployed(stack_file: Callable[[str], object], build: Callable[[], BacklineAccess]) -> tuple[DiyBackend, OfflineRun]:
    backend = DiyBackend()
    first = run_program(stack_file, Estate(assignments=[script_grant()], backend=backend), build)
    backend.deploy(first)
    return backend, first


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (program("backline"), program("team-backline")),  # renamed
        (program("backline"), program("backline", wrap="platform")),  # moved under the customer's component
        (program("team::backline"), program("backline")),  # a name with `::` in it (urn.go Name)
    ],
    ids=["renamed", "wrapped", "colons-in-the-name"],
)
def test_a_renamed_or_moved_component_keeps_every_grant_and_creates_or_deletes_nothing(
    stack_file: Callable[[str], object], before: Callable[[], BacklineAccess], after: Callable[[], BacklineAccess]
) -> None:
    backend, first = deployed(stack_file, before)
    old_urns = {r.urn for r in first.registrations}
    second = run_program(stack_file, Estate(assignments=granted(first), backend=backend), after)
    assert second.deleted == []
    assert {r.step for r in second.registrations if r.type != "acme:index:Platform"} == {"same"}
    assert {r.old_urn for r in second.registrations if r.old_urn} == old_urns
    [component] = second.of_type(COMPONENT)
    [old_component] = first.of_type(COMPONENT)
    assert component.urn != old_component.urn and component.aliases == (old_component.urn,)
    # Each grant also carries the URN the state holds it under, and never with an import id.
    for grant in second.of_type(ASSIGNMENT):
        assert grant.aliases == (grant.old_urn,) and grant.import_id == ""


def test_a_renamed_component_that_adopted_a_principal_it_may_delete_keeps_it(
    stack_file: Callable[[str], object],
) -> None:
    config = ONE_CLUSTER_STACK + "  backline-access:servicePrincipal: {deleteOnDestroy: true}\n"
    backend = DiyBackend()
    estate = Estate(service_principal=SP_OBJECT_ID, backend=backend)
    estate_of_run[:] = [estate]
    handed_over = handed_over_config(stack_file(config))  # type: ignore[arg-type]
    first = run_offline(handed_over, azure=estate, program=program("backline"))
    backend.deploy(first)
    estate = Estate(service_principal=SP_OBJECT_ID, assignments=granted(first), backend=backend)
    estate_of_run[:] = [estate]
    second = run_offline(handed_over, azure=estate, program=program("renamed"))
    [principal] = second.of_type(SERVICE_PRINCIPAL)
    assert principal.step == "same" and principal.import_id == ""
    assert second.deleted == []


def test_without_aliases_the_engine_would_delete_the_grants_of_a_renamed_component(
    stack_file: Callable[[str], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the aliases prevent, shown by taking them away: the old URNs would be deleted at the end."""
    from backline_access.deploy import adoption, component

    backend, first = deployed(stack_file, program("backline"))
    monkeypatch.setattr(component, "moved_from", lambda state, plan: None)
    original = adoption.adopt

    def without_aliases(*args: object, **kwargs: object) -> adoption.Adoption:
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        plain = {p: adoption.Declaration(d.existing, d.managed) for p, d in found.declarations.items()}
        return adoption.Adoption(plain, found.blocking, found.drift, found.own_in_unknown_state)

    monkeypatch.setattr(component, "adopt", without_aliases)
    second = run_program(stack_file, Estate(assignments=granted(first), backend=backend), program("team-backline"))
    deleted_grants = [urn for urn in second.deleted if ASSIGNMENT in urn]
    assert len(deleted_grants) == 3


# --- drift ----------------------------------------------------------------------------------------------


def test_a_grant_the_state_holds_but_azure_does_not_is_named_with_the_refresh_fix(
    stack_file: Callable[[str], object],
) -> None:
    backend, first = deployed(stack_file, program())
    gone = f"/subscriptions/{SUB_A}"
    left = [a for a in granted(first) if a.scope != gone]
    second = run_program(stack_file, Estate(assignments=left, backend=backend), program(), preview=True)
    [warning] = [w for w in second.warnings if "missing in Azure" in w]
    assert warning.startswith("1 grant(s) in this stack's state are missing in Azure")
    assert f"Reader at {gone}: assignment {assignment_name(gone, READER)}" in warning
    assert "fix: pulumi up --refresh" in warning
    assert by_scope(second)[gone]["step"] == "same"  # the engine grants nothing until the refresh


def test_a_grant_replaced_by_hand_under_another_name_is_named_as_drift_with_what_azure_has(
    stack_file: Callable[[str], object],
) -> None:
    backend, first = deployed(stack_file, program())
    scope = f"/subscriptions/{SUB_A}"
    by_hand = existing(scope, name="7d7d7d7d-7d7d-4d7d-8d7d-7d7d7d7d7d7d")
    left = [a for a in granted(first) if a.scope != scope] + [by_hand]
    second = run_program(stack_file, Estate(assignments=left, backend=backend), program())
    [warning] = [w for w in second.warnings if "missing in Azure" in w]
    assert f"Azure has an equivalent, {by_hand.name}: after the refresh it is adopted" in warning
    assert by_scope(second)[scope]["step"] == "same"  # declared as the state holds it: no 409, no delete


def test_grants_the_state_holds_for_another_principal_are_replaced_not_called_drift(
    stack_file: Callable[[str], object],
) -> None:
    backend, _ = deployed(stack_file, program())  # granted to SP_OBJECT_ID
    other = "abababab-abab-4bab-8bab-abababababab"  # the principal was deleted and made again
    config = CONFIG.replace(SP_OBJECT_ID, other)
    estate = Estate(backend=backend)
    estate_of_run[:] = [estate]
    second = run_offline(handed_over_config(stack_file(config)), azure=estate, program=program())  # type: ignore[arg-type]
    assert not [w for w in second.warnings if "missing in Azure" in w]
    assert steps(second) == ["replace", "replace", "replace"]  # principalId forces it (azure-native forceNewMap)


# --- conditions, strays, and the pure rules ---------------------------------------------------------------


def test_a_conditional_reader_at_a_planned_scope_stops_the_run_before_any_grant_is_registered(
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


def test_a_condition_added_to_a_grant_the_stack_holds_is_not_taken_into_the_declaration(
    stack_file: Callable[[str], object],
) -> None:
    backend, first = deployed(stack_file, program())
    scope = f"/subscriptions/{SUB_A}"
    conditioned = [
        existing(a.scope, a.role_guid, a.name, condition="@Resource[x] StringEquals 'y'") if a.scope == scope else a
        for a in granted(first)
    ]
    second = run_program(stack_file, Estate(assignments=conditioned, backend=backend), program())
    declared = by_scope(second)[scope]
    assert "condition" not in declared
    assert declared["step"] == "same"


def test_a_conditional_assignment_is_never_equivalent_to_a_grant() -> None:
    plan = build_plan(_plan_config())
    [planned] = [p for p in plan.assignments if p.scope == f"/subscriptions/{SUB_B}"]
    conditional = existing(planned.scope, condition="@Resource[x] StringEquals 'y'")
    assert not equivalent(conditional, planned, SP_OBJECT_ID)
    assert adoptable(plan, SP_OBJECT_ID, {planned.listed_at: [conditional]}) == {}


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
    assert stray.scope.lower() not in by_scope(run)


def test_an_unasked_assignment_under_this_projects_own_name_is_not_a_stray(run_stack: RunStack) -> None:
    # Another stack of this project made it (or this one, and it leaves the program): that stack deletes it.
    elsewhere = f"/subscriptions/{SUB_A}/resourceGroups/rg-old"
    run = run_stack(CONFIG, Estate(assignments=[ours(elsewhere)]))
    assert not [w for w in run.warnings if "does not ask for" in w]


def test_an_unasked_assignment_the_state_holds_is_left_to_the_engine_not_called_a_stray() -> None:
    from backline_access.deploy.stack_state import StackState, StateResource
    from backline_access.deploy.urn import Urn

    left = existing(f"/subscriptions/{SUB_A}/resourceGroups/rg-old")  # adopted earlier, since removed from config
    urn = Urn.parse(f"urn:pulumi:dev::backline-access::{COMPONENT}${ASSIGNMENT}::backline-reader-old")
    outputs = {
        "name": left.name,
        "scope": left.scope,
        "roleDefinitionId": left.role_definition_id,
        "principalId": SP_OBJECT_ID,
    }
    state = StackState((StateResource(urn, ASSIGNMENT, outputs),))
    plan = build_plan(_plan_config())
    assert unrequested(plan, SP_OBJECT_ID, {f"/subscriptions/{SUB_A}": [left]}, state) == []
    assert unrequested(plan, SP_OBJECT_ID, {f"/subscriptions/{SUB_A}": [left]}) == [left]


def test_the_offline_plan_lists_adoption_as_not_checked(run_stack: RunStack) -> None:
    run = run_stack(CONFIG, Estate())
    assert any(
        read.startswith("adoption: existing role assignments of Backline's service principal") for read in run.reads
    )


def test_the_plan_says_which_grants_are_adopted_rather_than_created(stack_file: Callable[[str], object]) -> None:
    from backline_access.config.source import load_config
    from backline_access.review.report import plan_document

    made = existing(f"/subscriptions/{SUB_B}")
    handed_over = handed_over_config(stack_file(CONFIG))  # type: ignore[arg-type]
    document = plan_document(load_config(handed_over), run_offline(handed_over, azure=Estate(assignments=[made])))
    actions = {a["scope"]: (a["action"], a["importId"]) for a in document["assignments"]}
    assert actions[f"/subscriptions/{SUB_B}"] == ("adopt", made.id)
    assert actions[f"/subscriptions/{SUB_A}"] == ("create", None)


def _plan_config() -> AccessConfig:
    return AccessConfig.model_validate(
        {
            "tenantId": "00000000-0000-0000-0000-000000000000",
            "subscriptions": [SUB_A, SUB_B],
            "servicePrincipal": {"objectId": SP_OBJECT_ID},
        }
    )
