"""The Pulumi program under the mock engine: the resource graph a user sees in `pulumi preview`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SP_OBJECT_ID, SUB_A, SUB_B, TENANT, Estate

from backline_access import AccessConfig, BacklineAccess, ConfigError
from backline_access.azure import AzureFailure
from backline_access.config.source import handed_over_config
from backline_access.deploy.preflight import PreflightError
from backline_access.review.offline import (
    GET_CLIENT_CONFIG,
    GET_CLIENT_TOKEN,
    GET_SERVICE_PRINCIPAL,
    OfflineRun,
    Registration,
    run_offline,
)

RunStack = Callable[..., OfflineRun]

COMPONENT = "backline:index:BacklineAccess"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
ARM_PROVIDER = "pulumi:providers:azure-native"
GRAPH_PROVIDER = "pulumi:providers:azuread"
READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_READER_GUID = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
PROD_ID = f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"

BASIC = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters:
        - resourceGroup: rg-prod
          name: aks-prod
"""

RBAC_ON = {"aadProfile": {"managed": True, "enableAzureRBAC": True}}
RBAC_OFF = {"aadProfile": {"managed": True, "enableAzureRBAC": False}}


def by_name(run: OfflineRun, type_: str) -> dict[str, Registration]:
    return {r.name: r for r in run.of_type(type_)}


def test_grants_reader_per_subscription_and_aks_reader_per_cluster_and_nothing_else(
    run_stack: RunStack,
) -> None:
    run = run_stack(BASIC)
    assignments = by_name(run, ASSIGNMENT)
    assert set(assignments) == {
        f"backline-reader-{SUB_A}",
        f"backline-reader-{SUB_B}",
        f"backline-aks-rbac-reader-{SUB_A}-rg-prod-aks-prod",
    }
    reader = assignments[f"backline-reader-{SUB_A}"].inputs
    assert reader == {
        "principalId": SP_OBJECT_ID,
        "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{READER_GUID}",
        "scope": f"/subscriptions/{SUB_A}",
        "roleAssignmentName": reader["roleAssignmentName"],
    }
    aks = assignments[f"backline-aks-rbac-reader-{SUB_A}-rg-prod-aks-prod"].inputs
    assert aks["scope"] == PROD_ID
    assert aks["roleDefinitionId"].endswith(f"/roleDefinitions/{AKS_READER_GUID}")
    assert aks["principalType"] == "ServicePrincipal"
    assert {r.type for r in run.registrations} == {
        COMPONENT,
        ARM_PROVIDER,
        GRAPH_PROVIDER,
        SERVICE_PRINCIPAL,
        ASSIGNMENT,
    }


def test_one_provider_pair_pinned_to_the_tenant_serves_every_subscription(run_stack: RunStack) -> None:
    run = run_stack(BASIC)
    component = run.of_type(COMPONENT)[0]
    children = [r for r in run.registrations if r.type != COMPONENT]
    assert all(r.parent == component.urn for r in children)
    [arm] = run.of_type(ARM_PROVIDER)
    [graph] = run.of_type(GRAPH_PROVIDER)
    assert arm.name == "backline-arm" and graph.name == "backline-graph"
    assert arm.inputs["tenantId"] == TENANT and graph.inputs["tenantId"] == TENANT
    assert arm.inputs["subscriptionId"] == SUB_A  # one of the configured subscriptions: the provider needs one
    assert all("::backline-arm::" in assignment.provider for assignment in run.of_type(ASSIGNMENT))


def test_assignments_are_deleted_on_destroy_and_replaced_delete_first(run_stack: RunStack) -> None:
    for assignment in run_stack(BASIC).of_type(ASSIGNMENT):
        assert assignment.retain_on_delete is False
        assert assignment.delete_before_replace is True


def test_assignment_names_are_deterministic_uuid5_of_scope_role_and_app(run_stack: RunStack) -> None:
    first = {r.name: r.inputs["roleAssignmentName"] for r in run_stack(BASIC).of_type(ASSIGNMENT)}
    second = {r.name: r.inputs["roleAssignmentName"] for r in run_stack(BASIC).of_type(ASSIGNMENT)}
    assert first == second
    assert len(set(first.values())) == 3
    assert first[f"backline-reader-{SUB_A}"] == "f40834e3-2d96-5052-a205-767dc17e41fd"


def test_reordering_and_recasing_the_config_changes_no_resource(run_stack: RunStack) -> None:
    reordered = f"""
    config:
      backline-access:tenantId: {TENANT.upper()}
      backline-access:subscriptions: [{SUB_B}, {SUB_A.upper()}]
      backline-access:aks:
        - subscription: {SUB_A}
          clusters: ["{PROD_ID.replace("rg-prod", "RG-Prod")}"]
    """

    def graph(run: OfflineRun) -> dict[str, dict[str, object]]:
        return {r.name: r.inputs for r in run.registrations if r.type != COMPONENT}

    assert graph(run_stack(reordered)) == graph(run_stack(BASIC))


def test_removing_a_subscription_removes_exactly_its_reader(run_stack: RunStack) -> None:
    smaller = BASIC.replace(f"[{SUB_A}, {SUB_B}]", f"[{SUB_A}]")
    before = set(by_name(run_stack(BASIC), ASSIGNMENT))
    after = set(by_name(run_stack(smaller), ASSIGNMENT))
    assert before - after == {f"backline-reader-{SUB_B}"}


def test_outputs_give_what_the_backline_ui_and_the_verification_need(run_stack: RunStack) -> None:
    outputs = run_stack(BASIC).outputs
    assert outputs["tenantId"] == TENANT
    assert outputs["subscriptionIds"] == f"{SUB_A},{SUB_B}"
    assert outputs["applicationId"] == "3fc75f55-e53f-4950-9127-665106cded58"
    assert outputs["servicePrincipalObjectId"] == SP_OBJECT_ID
    assert set(outputs["readerAssignments"]) == {SUB_A, SUB_B}
    assert outputs["readerAssignments"][SUB_A].startswith(
        f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleAssignments/"
    )
    assert set(outputs["aksAssignments"]) == {PROD_ID}
    assert outputs["adminConsentUrl"] == (
        f"https://login.microsoftonline.com/{TENANT}/adminconsent?client_id=3fc75f55-e53f-4950-9127-665106cded58"
    )
    assert (
        f'az role assignment list --scope {PROD_ID} --assignee {SP_OBJECT_ID} --query "[].roleDefinitionName" -o tsv'
        in outputs["verificationCommands"]
    )
    assert (
        f"az aks show --subscription {SUB_A} --resource-group rg-prod --name aks-prod "
        '--query "aadProfile.enableAzureRbac"' in outputs["verificationCommands"]
    )


# --- service principal ------------------------------------------------------------------------


def test_ensure_creates_a_missing_service_principal_kept_on_destroy(run_stack: RunStack) -> None:
    principal = run_stack(BASIC, Estate()).of_type(SERVICE_PRINCIPAL)[0]
    assert principal.inputs == {"clientId": "3fc75f55-e53f-4950-9127-665106cded58", "useExisting": True}
    assert principal.import_id == ""
    assert principal.retain_on_delete is True
    assert "graph::" in principal.provider.split("$")[-1]


def test_ensure_adopts_an_existing_service_principal_without_changing_its_settings(
    run_stack: RunStack,
) -> None:
    existing = "44444444-4444-4444-4444-444444444444"
    run = run_stack(BASIC, Estate(service_principal=existing))
    principal = run.of_type(SERVICE_PRINCIPAL)[0]
    assert principal.import_id == f"/servicePrincipals/{existing}"
    # Nothing but the client id is declared, and every setting is ignored: adoption PATCHes nothing.
    assert set(principal.inputs) == {"clientId", "useExisting"}
    for setting in ("accountEnabled", "appRoleAssignmentRequired", "tags", "description", "owners", "notes"):
        assert setting in principal.ignore_changes
    assert principal.retain_on_delete is True
    assert {a.inputs["principalId"] for a in run.of_type(ASSIGNMENT)} == {existing}


def test_delete_on_destroy_lets_destroy_delete_the_service_principal(run_stack: RunStack) -> None:
    config = BASIC + "  backline-access:servicePrincipal: {deleteOnDestroy: true}\n"
    assert run_stack(config).of_type(SERVICE_PRINCIPAL)[0].retain_on_delete is False


def test_grants_to_an_adopted_principal_that_destroy_deletes_are_deleted_first(run_stack: RunStack) -> None:
    existing = "44444444-4444-4444-4444-444444444444"
    config = BASIC + "  backline-access:servicePrincipal: {deleteOnDestroy: true}\n"
    run = run_stack(config, Estate(service_principal=existing))
    principal = run.of_type(SERVICE_PRINCIPAL)[0]
    assert all(principal.urn in a.dependencies for a in run.of_type(ASSIGNMENT))
    kept = run_stack(BASIC, Estate(service_principal=existing))
    assert all(kept.of_type(SERVICE_PRINCIPAL)[0].urn not in a.dependencies for a in kept.of_type(ASSIGNMENT))


def test_existing_mode_imports_the_service_principal_and_never_changes_or_deletes_it(run_stack: RunStack) -> None:
    existing = "55555555-5555-4555-8555-555555555555"
    run = run_stack(
        BASIC + "  backline-access:servicePrincipal: {mode: existing}\n", Estate(service_principal=existing)
    )
    [principal] = run.of_type(SERVICE_PRINCIPAL)
    assert principal.import_id == f"/servicePrincipals/{existing}"
    assert principal.retain_on_delete is True
    assert set(principal.inputs) == {"clientId", "useExisting"}
    assert {a.inputs["principalId"] for a in run.of_type(ASSIGNMENT)} == {existing}


def test_switching_from_delete_on_destroy_to_existing_keeps_the_principal_declared_and_retained(
    run_stack: RunStack,
) -> None:
    # The engine deletes a resource that leaves the program by the retain flag in the old state: the principal
    # must stay in the program, under the same name, now retained.
    existing = "55555555-5555-4555-8555-555555555555"
    estate = Estate(service_principal=existing)
    before = run_stack(BASIC + "  backline-access:servicePrincipal: {deleteOnDestroy: true}\n", estate)
    after = run_stack(BASIC + "  backline-access:servicePrincipal: {mode: existing}\n", estate)
    [was] = before.of_type(SERVICE_PRINCIPAL)
    [now] = after.of_type(SERVICE_PRINCIPAL)
    assert was.retain_on_delete is False
    assert now.urn == was.urn and now.retain_on_delete is True
    assert now.import_id == was.import_id


def test_the_import_id_of_an_adopted_principal_is_the_id_a_created_one_gets(run_stack: RunStack) -> None:
    # A created principal's id, as the provider stores it, must equal the import id of later runs, character
    # for character, or every later `pulumi up` imports (and replaces) it again.
    estate = Estate()
    run_stack(BASIC, estate)
    [(created_id, created_object_id)] = estate.service_principal_ids
    adopted = run_stack(BASIC, Estate(service_principal=created_object_id)).of_type(SERVICE_PRINCIPAL)[0]
    assert adopted.import_id == created_id == f"/servicePrincipals/{SP_OBJECT_ID}"


def test_existing_mode_fails_clearly_when_the_service_principal_is_missing(run_stack: RunStack) -> None:
    with pytest.raises(PreflightError) as error:
        run_stack(BASIC + "  backline-access:servicePrincipal: {mode: existing}\n", Estate())
    message = str(error.value)
    assert "does not exist in tenant" in message
    assert "az ad sp create --id 3fc75f55-e53f-4950-9127-665106cded58" in message
    assert f"https://login.microsoftonline.com/{TENANT}/adminconsent?client_id=" in message


def test_object_id_makes_no_graph_call_and_no_graph_provider(run_stack: RunStack) -> None:
    given = "66666666-6666-4666-8666-666666666666"
    run = run_stack(BASIC + f"  backline-access:servicePrincipal: {{objectId: {given}}}\n")
    assert run.of_type(GRAPH_PROVIDER) == []
    assert run.of_type(SERVICE_PRINCIPAL) == []
    assert GET_SERVICE_PRINCIPAL not in {call.token for call in run.invokes}
    assert {a.inputs["principalId"] for a in run.of_type(ASSIGNMENT)} == {given}


def test_a_failing_graph_lookup_explains_the_permission_and_the_object_id_way_out(
    run_stack: RunStack,
) -> None:
    class NoGraphRights(Estate):
        def answer_service_principal(self, args: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
            from backline_access.review.offline import AzureError

            raise AzureError("Authorization_RequestDenied: Insufficient privileges to complete the operation.")

    with pytest.raises(PreflightError, match=r"Application\.Read\.All.*servicePrincipal\.objectId"):
        run_stack(BASIC, NoGraphRights())


# --- tenant guard -----------------------------------------------------------------------------


def test_tenant_guard_stops_before_any_grant_or_service_principal_is_registered(run_stack: RunStack) -> None:
    other = "77777777-7777-4777-8777-777777777777"
    estate = Estate(credential_tenant=other)
    with pytest.raises(PreflightError) as error:
        run_stack(BASIC, estate)
    assert granted_or_created(estate) == []
    message = str(error.value)
    assert other in message and TENANT in message
    assert f"az login --tenant {TENANT}" in message


def test_tenant_guard_is_the_first_question_asked_of_azure(run_stack: RunStack) -> None:
    run = run_stack(BASIC)
    # Only the engine is asked before it: about the stack's own state (pulumi:pulumi:*, no provider, no Azure).
    azure = [c for c in run.invokes if not c.token.startswith("pulumi:pulumi:")]
    assert azure[0].token == GET_CLIENT_CONFIG
    assert len([c for c in run.invokes if c.token == GET_CLIENT_CONFIG]) == 1


# --- AKS preflight ----------------------------------------------------------------------------


def test_missing_clusters_are_all_named_and_nothing_is_granted(run_stack: RunStack) -> None:
    config = BASIC.replace(
        "          name: aks-prod\n",
        "          name: aks-prod\n        - resourceGroup: rg-prod\n          name: aks-gone\n",
    )
    estate = Estate(clusters={"aks-prod": RBAC_ON})
    with pytest.raises(PreflightError) as error:
        run_stack(config, estate)
    message = str(error.value)
    assert "AKS cluster 'aks-gone' (resource group 'rg-prod'" in message and "was not found" in message
    assert "aks-prod" not in message
    assert granted_or_created(estate) == []


def granted_or_created(estate: Estate) -> list[str]:
    return [name for type_, name in estate.created if type_ in (ASSIGNMENT, SERVICE_PRINCIPAL)]


def test_cluster_without_azure_rbac_warns_with_the_exact_fix_and_is_still_granted(
    run_stack: RunStack,
) -> None:
    run = run_stack(BASIC, Estate(clusters={"aks-prod": RBAC_OFF}))
    assert any(
        f"az aks update --resource-group rg-prod --name aks-prod --enable-azure-rbac --subscription {SUB_A}" in w
        for w in run.warnings
    )
    assert f"backline-aks-rbac-reader-{SUB_A}-rg-prod-aks-prod" in by_name(run, ASSIGNMENT)


def test_require_azure_rbac_turns_the_warning_into_an_error(run_stack: RunStack) -> None:
    estate = Estate(clusters={"aks-prod": {}})
    with pytest.raises(PreflightError, match="aksRequireAzureRbac"):
        run_stack(BASIC + "  backline-access:aksRequireAzureRbac: true\n", estate)
    assert granted_or_created(estate) == []


def test_unreadable_cluster_names_the_scope_and_the_role_the_deployer_lacks(run_stack: RunStack) -> None:
    forbidden = AzureFailure(f"/subscriptions/{SUB_A}", 403, "AuthorizationFailed", "no read on rg-404")
    estate = Estate(unreadable={"aks-prod": forbidden})
    with pytest.raises(PreflightError) as error:
        run_stack(BASIC, estate)
    message = str(error.value)
    assert f"cannot be read: the deployer may not list the clusters of /subscriptions/{SUB_A}" in message
    assert "HTTP 403 AuthorizationFailed: no read on rg-404" in message
    assert f"fix: give the deployer Reader (or more) on /subscriptions/{SUB_A}" in message
    assert "was not found" not in message  # classified by code: the digits 404 in a name mean nothing
    assert granted_or_created(estate) == []


def test_a_cluster_in_an_unknown_subscription_says_so(run_stack: RunStack) -> None:
    gone = AzureFailure(f"/subscriptions/{SUB_A}", 404, "SubscriptionNotFound", "could not be found")
    with pytest.raises(PreflightError, match=rf"Subscription {SUB_A} of AKS cluster 'aks-prod' was not found"):
        run_stack(BASIC, Estate(unreadable={"aks-prod": gone}))


def test_every_selected_cluster_is_asked_of_the_read_side_once(run_stack: RunStack) -> None:
    run = run_stack(BASIC)
    assert run.reads == ["AKS preflight: cluster rg-prod/aks-prod exists and has Azure RBAC for Kubernetes enabled"]
    assert GET_CLIENT_TOKEN not in {call.token for call in run.invokes}  # in-process: no token, no HTTP


def test_aks_only_subscription_warns_that_reader_is_missing(run_stack: RunStack) -> None:
    config = BASIC.replace(f"[{SUB_A}, {SUB_B}]", f"[{SUB_B}]")
    run = run_stack(config)
    assert any(f"aks[0].subscription: {SUB_A} gets no Reader" in w for w in run.warnings)


def test_the_component_registers_its_outputs(run_stack: RunStack) -> None:
    run = run_stack(BASIC)
    component = run.of_type(COMPONENT)[0]
    assert run.registered_outputs[component.urn] == sorted(
        [
            "tenantId",
            "subscriptionIds",
            "applicationId",
            "servicePrincipalObjectId",
            "readerAssignments",
            "aksAssignments",
            "managementGroupAssignments",
            "adminConsentUrl",
            "verificationCommands",
            "aksScopesAsked",  # for the policy pack, not a stack output
        ]
    )


def test_preview_registers_the_same_graph_as_up(stack_file: Callable[[str], Path]) -> None:
    handed_over = handed_over_config(stack_file(BASIC))
    preview = run_offline(handed_over, azure=Estate(), preview=True)
    up = run_offline(handed_over, azure=Estate())
    assert sorted((r.type, r.name) for r in preview.registrations) == sorted((r.type, r.name) for r in up.registrations)


def test_a_customer_program_can_use_the_component_with_a_mapping_twice_without_collisions() -> None:
    def customer_program() -> BacklineAccess:
        BacklineAccess("other", {"tenantId": TENANT, "subscriptions": [SUB_B]})
        return BacklineAccess("backline", {"tenantId": TENANT, "subscriptions": [SUB_A]})

    # preview: a customer program reads Azure itself (no in-process reader), which only a fake Azure answers
    run = run_offline({}, azure=Estate(), program=customer_program, preview=True)
    names = sorted(r.name for r in run.of_type(ASSIGNMENT))
    assert names == [f"backline-reader-{SUB_A}", f"other-reader-{SUB_B}"]
    assert run.outputs["subscriptionIds"] == SUB_A


def test_an_access_config_built_in_python_gets_the_cross_field_checks_too() -> None:
    with pytest.raises(ConfigError, match=r"subscriptions\[1\]: .* is listed twice"):
        AccessConfig(tenant_id=TENANT, subscriptions=[SUB_A, SUB_A.upper()])
    with pytest.raises(ConfigError, match="nothing to grant"):
        AccessConfig(tenant_id=TENANT)


def test_an_access_config_built_in_python_raises_config_error_under_the_stack_key_names() -> None:
    with pytest.raises(ConfigError) as error:
        AccessConfig(
            tenant_id="nope",
            subscriptions=[SUB_A],
            service_principal={"object_id": "3FC75F55-E53F-4950-9127-665106CDED58"},
        )
    assert [p.path for p in error.value.problems] == ["tenantId", "servicePrincipal.objectId"]
    assert error.value.problems[1].fix == "az ad sp show --id 3fc75f55-e53f-4950-9127-665106cded58 --query id -o tsv"


def test_a_customer_program_gets_config_errors_as_values() -> None:
    with pytest.raises(ConfigError) as error:
        BacklineAccess("backline", {"tenantId": TENANT, "subscriptions": ["nope"]})
    assert [p.path for p in error.value.problems] == ["subscriptions[0]"]


# --- answers that are not answers ------------------------------------------------------------------


def test_a_tenant_guard_without_a_tenant_is_could_not_be_checked(run_stack: RunStack) -> None:
    estate = Estate(credential_tenant="")
    with pytest.raises(PreflightError, match="Tenant guard could not be checked"):
        run_stack(BASIC, estate)
    assert granted_or_created(estate) == []


def test_a_service_principal_lookup_without_an_object_id_is_could_not_be_checked(run_stack: RunStack) -> None:
    class EmptyGraph(Estate):
        def answer_service_principal(self, args: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
            return {"clientId": args.get("clientId")}

    estate = EmptyGraph()
    with pytest.raises(PreflightError, match="The service principal lookup could not be checked"):
        run_stack(BASIC, estate)
    assert granted_or_created(estate) == []
