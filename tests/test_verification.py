"""The verification checks against the fake Azure over HTTPS: each status, its evidence and its fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fake_azure import BACKLINE_APP_ID, Assignment, Cluster, FakeAzureServer, RoleDefinition
from fake_azure import Estate as FakeEstate
from fake_azure.estate import MICROSOFT_GRAPH, AppRoleGrant, DelegatedGrant, DirectoryCredential, Owner

from backline_access.azure import EstateReader, reader_from_environment, reader_from_provider_token, resolve_cloud
from backline_access.azure.transport import ReadRetryPolicy
from backline_access.config.clouds import Cloud, CloudChoice
from backline_access.config.model import AccessConfig
from backline_access.plan import AccessPlan, build_plan
from backline_access.verify.checks import Check, summary, verify, verify_until
from backline_access.verify.entra_privilege import read_only

Serve = Callable[..., FakeAzureServer]
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB_A = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SUB_B = "1c2e8f4d-7a1b-4c9e-9d3f-2b8a6e5c4d10"
SP = "99999999-9999-4999-8999-999999999999"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
PROD = Cluster(SUB_A, "rg-prod", "aks-prod")
LEGACY = Cluster(SUB_A, "rg-prod", "aks-legacy", azure_rbac=None)


def role(guid: str) -> str:
    return f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def onboarded(*, legacy_rbac: bool = True) -> FakeEstate:
    """A tenant where Backline has all the access the plan asks for (the script's random names)."""
    legacy = Cluster(SUB_A, "rg-prod", "aks-legacy", azure_rbac=True if legacy_rbac else None)
    return FakeEstate(
        TENANT,
        [SUB_A, SUB_B],
        clusters=[PROD, legacy],
        service_principals={BACKLINE_APP_ID: SP},
        assignments=[
            Assignment("r-a", f"/subscriptions/{SUB_A}", role(READER), SP),
            Assignment("r-b", f"/subscriptions/{SUB_B}", role(READER), SP),
            Assignment("k-prod", PROD.id.replace("/resourceGroups/", "/resourcegroups/"), role(AKS_READER), SP),
            # the legacy cluster's AKS RBAC Reader is inherited from its resource group
            Assignment("k-rg", f"/subscriptions/{SUB_A}/resourceGroups/rg-prod", role(AKS_READER), SP),
        ],
        clients={"verifier": "s3cret"},
    )


def plan() -> AccessPlan:
    clusters = [{"resourceGroup": c.resource_group, "name": c.name} for c in (PROD, LEGACY)]
    config = AccessConfig.model_validate(
        {"tenantId": TENANT, "subscriptions": [SUB_A, SUB_B], "aks": [{"subscription": SUB_A, "clusters": clusters}]}
    )
    return build_plan(config)


def signed_in(fake: FakeAzureServer) -> tuple[EstateReader, Cloud]:
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    environ = {"ARM_CLIENT_ID": "verifier", "ARM_CLIENT_SECRET": "s3cret"}
    return reader_from_environment(environ, cloud, TENANT, retry=ReadRetryPolicy(backoff=0.01)), cloud


def by_key(checks: list[Check]) -> dict[tuple[str, str], Check]:
    return {(c.check, c.scope): c for c in checks}


def test_an_onboarded_tenant_passes_every_check_in_calls_by_subscription(serve: Serve) -> None:
    fake = serve(onboarded())
    reader, cloud = signed_in(fake)
    checks = verify(plan(), reader, cloud)
    # The legacy cluster's AKS RBAC Reader comes from its resource group: more than the stack grants (a warning).
    # Entra ID's half passes in three checks: no credentials, no permissions, no owners.
    assert summary(checks) == {"pass": 11, "pending": 0, "fail": 0, "unknown": 0, "warn": 1}
    found = by_key(checks)
    warning = found[("least privilege", f"/subscriptions/{SUB_A}/resourceGroups/rg-prod")]
    assert warning.evidence.startswith("Azure Kubernetes Service RBAC Reader here is more than this stack grants")
    assert found[("service principal", f"app {BACKLINE_APP_ID}")].evidence == f"object id {SP}"
    legacy_role = found[("Azure Kubernetes Service RBAC Reader", LEGACY.id)]
    assert legacy_role.evidence == f"inherited from /subscriptions/{SUB_A}/resourceGroups/rg-prod (assignment k-rg)"
    assert found[("Reader", f"/subscriptions/{SUB_B}")].evidence == "assignment r-b at this scope"
    assert len(fake.calls("GET", "Authorization/roleAssignments")) == 2  # one listing per subscription
    assert len(fake.calls("POST", "ResourceGraph")) == 1
    # Graph: the principal with its credentials, its app role assignments, delegated grants and owners
    assert [r.path for r in fake.calls("GET", "/v1.0/")] == [
        "/v1.0/servicePrincipals",
        f"/v1.0/servicePrincipals/{SP}/appRoleAssignments",
        "/v1.0/oauth2PermissionGrants",
        f"/v1.0/servicePrincipals/{SP}/owners",
    ]


def test_a_missing_reader_fails_with_the_pages_403_diagnosis_and_commands(serve: Serve) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]
    reader, cloud = signed_in(serve(world))
    check = by_key(verify(plan(), reader, cloud))[("Reader", f"/subscriptions/{SUB_B}")]
    assert check.status == "fail"
    assert "Backline's test connection fails with 'forbidden' (403)" in check.evidence
    assert check.fix == (
        f"az cloud set --name FakeAzure && az role assignment create --assignee {BACKLINE_APP_ID} --role Reader "
        f"--scope /subscriptions/{SUB_B}"
    )
    assert check.query == (
        f"az cloud set --name FakeAzure && az role assignment list --assignee {SP} --scope /subscriptions/{SUB_B} "
        '--query "[].roleDefinitionName" -o tsv'
    )


def test_a_cluster_without_azure_rbac_fails_with_the_update_command(serve: Serve) -> None:
    reader, cloud = signed_in(serve(onboarded(legacy_rbac=False)))
    check = by_key(verify(plan(), reader, cloud))[("Azure RBAC for Kubernetes", LEGACY.id)]
    assert check.status == "fail"
    assert check.fix is not None and check.fix.endswith(
        f"az aks update --resource-group rg-prod --name aks-legacy --enable-azure-rbac --subscription {SUB_A}"
    )


def test_a_missing_service_principal_gives_both_routes(serve: Serve) -> None:
    world = onboarded()
    world.service_principals = {}
    fake = serve(world)
    reader, cloud = signed_in(fake)
    checks = verify(plan(), reader, cloud)
    assert [c.check for c in checks] == ["tenant", "service principal"]
    assert checks[1].status == "fail"
    assert "consent required" in checks[1].evidence
    assert checks[1].fix == (
        "pulumi up with servicePrincipal.mode: ensure, or let an admin consent: "
        f"{fake.url}/{TENANT}/adminconsent?client_id={BACKLINE_APP_ID}"
    )


def test_what_the_verifier_cannot_read_is_unknown_never_pass(serve: Serve) -> None:
    fake = serve(onboarded())
    fake.forbid(f"/subscriptions/{SUB_B}")
    reader, cloud = signed_in(fake)
    check = by_key(verify(plan(), reader, cloud))[("Reader", f"/subscriptions/{SUB_B}")]
    assert check.status == "unknown"
    assert "HTTP 403 AuthorizationFailed" in check.evidence


def test_credentials_of_another_tenant_stop_at_the_tenant_check(serve: Serve) -> None:
    fake = serve(onboarded())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    other = "33333333-3333-4333-8333-333333333333"
    reader = reader_from_provider_token(cloud, fake.issue_token(tenant=other))
    [check] = verify(plan(), reader, cloud)
    assert (check.check, check.status) == ("tenant", "fail")
    assert check.evidence == f"the credentials belong to tenant {other}"
    assert check.fix is not None and f"az login --tenant {TENANT}" in check.fix


def test_right_after_the_grants_a_missing_assignment_is_pending_not_failing(serve: Serve) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]
    reader, cloud = signed_in(serve(world))
    check = by_key(verify(plan(), reader, cloud, principal_id=SP, just_granted=True))[
        ("Reader", f"/subscriptions/{SUB_B}")
    ]
    assert check.status == "pending"
    assert check.evidence.endswith("(just granted: propagation)")


def test_waiting_sees_an_assignment_that_propagates_and_rechecks_only_what_did_not_pass(serve: Serve) -> None:
    world = onboarded()
    next(a for a in world.assignments if a.name == "r-b").visible_after_reads = 2
    fake = serve(world)
    reader, cloud = signed_in(fake)
    rounds: list[int] = []
    checks = verify_until(
        plan(),
        reader,
        cloud,
        wait_seconds=5,
        on_round=lambda c, _: rounds.append((summary(c)["fail"], summary(c)["pending"])),
        first_pause=0.01,
    )
    assert summary(checks)["pass"] == 11 and summary(checks)["warn"] == 1
    assert rounds == [(0, 1), (0, 1)]  # while it waits, the missing grant is pending, never fail
    listed = [r.path.split("/")[2] for r in fake.calls("GET", "Authorization/roleAssignments")]
    assert listed[2:] == [SUB_B, SUB_B]  # the first round read both subscriptions; the rest only the failing one


def test_without_waiting_a_propagating_assignment_is_reported_failing(serve: Serve) -> None:
    world = onboarded()
    next(a for a in world.assignments if a.name == "r-b").visible_after_reads = 2
    reader, cloud = signed_in(serve(world))
    checks = verify_until(plan(), reader, cloud, wait_seconds=0)
    assert by_key(checks)[("Reader", f"/subscriptions/{SUB_B}")].status == "fail"


@pytest.mark.parametrize("status", ["fail", "unknown"])
def test_documents_leave_out_the_query(status: str) -> None:
    check = Check("Reader", "/subscriptions/x", status, "why", "fix", "az ...")  # type: ignore[arg-type]
    assert check.as_document() == {
        "check": "Reader",
        "scope": "/subscriptions/x",
        "status": status,
        "evidence": "why",
        "fix": "fix",
    }


# --- test strength: ways verify could say pass wrongly, or lose what it could not see ---------------------------


def test_an_assignment_below_the_checked_scope_does_not_cover_it(serve: Serve) -> None:
    """Reader on one resource group is not Reader on its subscription (the listing returns assignments below the
    scope too)."""
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "r-b"]
    world.assignments.append(Assignment("rg-only", f"/subscriptions/{SUB_B}/resourceGroups/rg-x", role(READER), SP))
    reader, cloud = signed_in(serve(world))
    check = by_key(verify(plan(), reader, cloud))[("Reader", f"/subscriptions/{SUB_B}")]
    assert check.status == "fail"


def test_a_scope_covers_only_below_a_slash_boundary(serve: Serve) -> None:
    """AKS RBAC Reader on resource group rg-pro does not cover a cluster in rg-prod (a text prefix would)."""
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name not in ("k-prod", "k-rg")]
    world.assignments.append(
        Assignment("k-near", f"/subscriptions/{SUB_A}/resourceGroups/rg-pro", role(AKS_READER), SP)
    )
    reader, cloud = signed_in(serve(world))
    checks = by_key(verify(plan(), reader, cloud))
    for cluster in (PROD, LEGACY):
        assert checks[("Azure Kubernetes Service RBAC Reader", cluster.id)].status == "fail"


def test_unknown_stays_unknown_through_the_rounds_of_waiting(serve: Serve) -> None:
    """A scope the verifier cannot read ends as unknown, not pending or fail, while another grant propagates."""
    world = onboarded()
    next(a for a in world.assignments if a.name == "r-a").visible_after_reads = 3
    fake = serve(world)
    fake.forbid(f"/subscriptions/{SUB_B}")
    reader, cloud = signed_in(fake)
    rounds: list[str] = []
    checks = verify_until(
        plan(),
        reader,
        cloud,
        wait_seconds=5,
        on_round=lambda c, _: rounds.append(by_key(c)[("Reader", f"/subscriptions/{SUB_B}")].status),
        first_pause=0.01,
    )
    assert len(rounds) >= 2 and set(rounds) == {"unknown"}
    assert by_key(checks)[("Reader", f"/subscriptions/{SUB_B}")].status == "unknown"
    assert by_key(checks)[("Reader", f"/subscriptions/{SUB_A}")].status == "pass"


# --- least privilege: Azure roles beyond read ----------------------------------------------------------------


CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
CUSTOM_READ = "5d1c9e2a-0000-4000-8000-00000000c0de"


def least(checks: list[Check]) -> list[Check]:
    """The Azure half of least privilege (its scopes are Azure's; Entra ID's name the service principal)."""
    return [c for c in checks if c.check == "least privilege" and not c.scope.startswith("service principal")]


def test_an_onboarded_tenant_with_nothing_extra_passes_least_privilege_from_the_same_listings(serve: Serve) -> None:
    world = onboarded()
    world.assignments = [a for a in world.assignments if a.name != "k-rg"]
    world.assignments.append(Assignment("k-legacy", LEGACY.id, role(AKS_READER), SP))
    fake = serve(world)
    reader, cloud = signed_in(fake)
    [check] = least(verify(plan(), reader, cloud))
    assert check.status == "pass" and "only Reader and Azure Kubernetes Service RBAC Reader" in check.evidence
    assert (
        len(fake.calls("GET", "Authorization/roleAssignments")) == 2 and fake.role_definition_reads == []
    )  # no extra call


def test_contributor_at_a_subscription_fails_with_the_delete_command(serve: Serve) -> None:
    world = onboarded()
    world.assignments.append(Assignment("contrib", f"/subscriptions/{SUB_B}", role(CONTRIBUTOR), SP))
    world.assignments.append(Assignment("contrib-2", f"/subscriptions/{SUB_A}", role(CONTRIBUTOR), SP))
    fake = serve(world)
    reader, cloud = signed_in(fake)
    failing = [c for c in least(verify(plan(), reader, cloud)) if c.status == "fail"]
    assert [c.scope for c in failing] == [f"/subscriptions/{SUB_A}", f"/subscriptions/{SUB_B}"]
    assert "role 'Contributor' (assignment contrib-2) allows more than reading: *" in failing[0].evidence
    assert failing[1].fix == (
        f"az cloud set --name FakeAzure && az role assignment delete --ids /subscriptions/{SUB_B}"
        "/providers/Microsoft.Authorization/roleAssignments/contrib"
    )
    assert fake.role_definition_reads == [CONTRIBUTOR]  # one GET per distinct role


def test_a_custom_role_that_only_reads_warns(serve: Serve) -> None:
    world = onboarded()
    world.role_definitions[CUSTOM_READ] = RoleDefinition(CUSTOM_READ, "Inventory reader", ["*/read"], custom=True,
                                                         data_actions=["Microsoft.Storage/*/read"])  # fmt: skip
    world.assignments.append(Assignment("custom", f"/subscriptions/{SUB_B}", role(CUSTOM_READ), SP))
    reader, cloud = signed_in(serve(world))
    [check] = [c for c in least(verify(plan(), reader, cloud)) if c.scope == f"/subscriptions/{SUB_B}"]
    assert check.status == "warn"
    assert check.evidence.startswith("role 'Inventory reader' (assignment custom) only reads, but is more than")


def test_reader_inherited_from_the_tenant_root_group_warns_as_more_than_asked(serve: Serve) -> None:
    world = onboarded()
    world.management_groups = {TENANT: [SUB_A, SUB_B]}
    world.assignments.append(
        Assignment("root-reader", f"/providers/Microsoft.Management/managementGroups/{TENANT}", role(READER), SP)
    )
    reader, cloud = signed_in(serve(world))
    warned = [c for c in least(verify(plan(), reader, cloud)) if "root-reader" in c.evidence]
    assert [c.status for c in warned] == ["warn"]
    assert warned[0].evidence.startswith("Reader here is more than this stack grants")


def test_a_role_whose_definition_cannot_be_read_is_unknown_never_pass(serve: Serve) -> None:
    world = onboarded()
    world.assignments.append(Assignment("mystery", f"/subscriptions/{SUB_B}", role(CUSTOM_READ), SP))
    reader, cloud = signed_in(serve(world))
    [check] = [c for c in least(verify(plan(), reader, cloud)) if "mystery" in c.evidence]
    assert check.status == "unknown" and "could not be read" in check.evidence


def test_not_actions_are_subtracted_and_data_actions_count() -> None:
    from backline_access.azure import RoleDefinitionInfo
    from backline_access.verify.least_privilege import not_read_only

    assert not_read_only(RoleDefinitionInfo("g", "r", ("*/read", "Microsoft.Web/sites/write"),
                                            ("Microsoft.Web/sites/write",))) == []  # fmt: skip
    assert not_read_only(RoleDefinitionInfo("g", "r", ("*/read",), data_actions=("Microsoft.Storage/*/delete",))) == [
        "Microsoft.Storage/*/delete"
    ]
    assert not_read_only(RoleDefinitionInfo("g", "r", ("Microsoft.Compute/virtualMachines/start/action",))) == [
        "Microsoft.Compute/virtualMachines/start/action"
    ]


# --- least privilege: what Entra ID holds for Backline's service principal -----------------------------------

DIRECTORY_READ = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
DIRECTORY_READ_WRITE = "19dbc75e-c2e2-444c-a770-ec69d8559fc7"
KEY_ID = "4f0f1e6a-8c1d-4b57-9e0a-2d4c9b1a7e11"


def entra(checks: list[Check], part: str) -> list[Check]:
    return [c for c in checks if c.check == "least privilege" and c.scope == f"service principal {SP}: {part}"]


def test_a_clean_tenant_passes_entra_ids_half_in_four_graph_calls(serve: Serve) -> None:
    fake = serve(onboarded())
    reader, cloud = signed_in(fake)
    checks = verify(plan(), reader, cloud)
    evidence = {
        part: [(c.status, c.evidence) for c in entra(checks, part)] for part in ("credentials", "permissions", "owners")
    }
    assert evidence == {
        "credentials": [("pass", "no password or certificate on Backline's service principal here")],
        "permissions": [("pass", "application and delegated permissions in Entra ID: none")],
        "owners": [("pass", "no owners of Backline's service principal here")],
    }
    lookup = fake.calls("GET", "/v1.0/servicePrincipals")[0]
    assert lookup.query["$select"] == "id,appId,passwordCredentials,keyCredentials"  # the credentials come with it
    assert len(fake.calls("GET", "/v1.0/")) == 4


def test_a_password_on_the_service_principal_fails_with_its_key_id_and_the_delete_command(serve: Serve) -> None:

    world = onboarded()
    world.credentials[SP] = [
        DirectoryCredential(KEY_ID, display_name="temp for testing", end="2028-06-30T00:00:00Z"),
        DirectoryCredential("0c0c0c0c-1111-4222-8333-444444444444", kind="certificate", display_name="CN=ops"),
    ]
    reader, cloud = signed_in(serve(world))
    checks = verify(plan(), reader, cloud)
    password, certificate = entra(checks, "credentials")
    assert "Xy~" not in repr(checks)  # Graph's hint (a password's first characters) is never shown
    assert password.status == certificate.status == "fail"
    assert password.evidence.startswith(
        f"a password on Backline's service principal in this tenant (key id {KEY_ID}, named 'temp for testing', "
        "valid 2026-01-01T00:00:00Z to 2028-06-30T00:00:00Z): whoever holds it signs in as Backline"
    )
    assert password.fix == f"az cloud set --name FakeAzure && az ad sp credential delete --id {SP} --key-id {KEY_ID}"
    assert certificate.fix is not None and certificate.fix.endswith(
        "--key-id 0c0c0c0c-1111-4222-8333-444444444444 --cert"
    )


def test_an_expired_password_on_the_service_principal_still_fails(serve: Serve) -> None:
    # Expiry is not removal: it was made by someone outside Backline, and a renewal needs no new grant.
    world = onboarded()
    world.credentials[SP] = [DirectoryCredential(KEY_ID, start="2024-01-01T00:00:00Z", end="2025-01-01T00:00:00Z")]
    reader, cloud = signed_in(serve(world))
    [password] = entra(verify(plan(), reader, cloud), "credentials")
    assert password.status == "fail"
    assert "valid 2024-01-01T00:00:00Z to 2025-01-01T00:00:00Z" in password.evidence
    assert password.fix is not None and password.fix.endswith(f"--key-id {KEY_ID}")


def test_directory_read_write_fails_and_directory_read_passes(serve: Serve) -> None:

    world = onboarded()
    world.app_role_grants = [
        AppRoleGrant("ara-read", SP, MICROSOFT_GRAPH, DIRECTORY_READ),
        AppRoleGrant("ara-write", SP, MICROSOFT_GRAPH, DIRECTORY_READ_WRITE),
    ]
    world.delegated_grants = [DelegatedGrant("grant-1", SP, MICROSOFT_GRAPH.object_id, "User.Read Mail.Send")]
    fake = serve(world)
    reader, cloud = signed_in(fake)
    found = entra(verify(plan(), reader, cloud), "permissions")
    assert [(c.status, c.evidence) for c in found] == [
        ("fail", "application permission Directory.ReadWrite.All in Microsoft Graph allows more than reading"),
        ("fail", "delegated permission Mail.Send in Microsoft Graph for every user (admin consent) allows more "
         "than reading"),
    ]  # fmt: skip
    assert found[0].fix == (
        f"az cloud set --name FakeAzure && az rest --method DELETE --url {cloud.graph}/v1.0/servicePrincipals/{SP}"
        "/appRoleAssignments/ara-write"
    )
    # One GET more: Microsoft Graph's own service principal, whose appRoles name the assignments' role ids
    assert [r.path for r in fake.calls("GET", f"/v1.0/servicePrincipals/{MICROSOFT_GRAPH.object_id}")] == [
        f"/v1.0/servicePrincipals/{MICROSOFT_GRAPH.object_id}"
    ]


def test_read_only_permissions_pass_with_the_list_as_evidence(serve: Serve) -> None:

    world = onboarded()
    world.app_role_grants = [AppRoleGrant("ara-read", SP, MICROSOFT_GRAPH, DIRECTORY_READ)]
    world.delegated_grants = [DelegatedGrant("grant-1", SP, MICROSOFT_GRAPH.object_id, "openid User.Read")]
    reader, cloud = signed_in(serve(world))
    [check] = entra(verify(plan(), reader, cloud), "permissions")
    assert (check.status, check.evidence) == (
        "pass",
        "application and delegated permissions in Entra ID: application Directory.Read.All in Microsoft Graph; "
        "delegated openid in Microsoft Graph; delegated User.Read in Microsoft Graph",
    )


def test_an_owner_of_the_service_principal_warns_by_name(serve: Serve) -> None:

    world = onboarded()
    world.owners[SP] = [Owner("6a6a6a6a-0000-4000-8000-000000000001", "Dana Ops", "dana@contoso.example")]
    reader, cloud = signed_in(serve(world))
    [check] = entra(verify(plan(), reader, cloud), "owners")
    assert check.status == "warn"
    assert check.evidence.startswith("user dana@contoso.example (object id 6a6a6a6a-0000-4000-8000-000000000001) owns")


@pytest.mark.parametrize(
    ("forbidden", "part"),
    [("/appRoleAssignments", "permissions"), ("/oauth2PermissionGrants", "permissions"), ("/owners", "owners")],
)
def test_a_403_from_graph_is_unknown_naming_the_permission_never_pass(serve: Serve, forbidden: str, part: str) -> None:
    fake = serve(onboarded())
    fake.faults.graph_forbidden.append(forbidden)
    reader, cloud = signed_in(fake)
    checks = verify(plan(), reader, cloud)
    [check] = entra(checks, part)
    assert check.status == "unknown"
    assert "HTTP 403 Authorization_RequestDenied" in check.evidence
    assert check.fix is not None and "Application.Read.All" in check.fix
    assert [c.status for c in entra(checks, "credentials")] == ["pass"]  # what was read is still reported


def test_with_a_configured_object_id_the_credentials_are_read_by_id_and_unreadable_is_unknown(serve: Serve) -> None:
    fake = serve(onboarded())
    reader, cloud = signed_in(fake)
    checks = verify(plan(), reader, cloud, principal_id=SP)
    assert [c.status for c in entra(checks, "credentials")] == ["pass"]
    by_id = fake.calls("GET", f"/v1.0/servicePrincipals/{SP}")[0]
    assert by_id.path == f"/v1.0/servicePrincipals/{SP}" and "passwordCredentials" in by_id.query["$select"]
    fake.faults.graph_forbidden.append(rf"/servicePrincipals/{SP}$")
    reader, cloud = signed_in(fake)
    [check] = entra(verify(plan(), reader, cloud, principal_id=SP), "credentials")
    assert check.status == "unknown" and "Application.Read.All" in (check.fix or "")


def test_an_application_permission_its_api_does_not_name_is_unknown(serve: Serve) -> None:

    world = onboarded()
    world.app_role_grants = [AppRoleGrant("ara-x", SP, MICROSOFT_GRAPH, "11111111-2222-4333-8444-555555555555")]
    reader, cloud = signed_in(serve(world))
    [check] = entra(verify(plan(), reader, cloud), "permissions")
    assert check.status == "unknown" and "whose name its API does not say" in check.evidence


@pytest.mark.parametrize(
    ("name", "reads"),
    [
        ("Directory.Read.All", True),
        ("User.ReadBasic.All", True),
        ("SecurityActions.Read.All", True),  # the resource's own name says nothing
        ("openid", True),
        ("Directory.ReadWrite.All", False),
        ("Mail.Send", False),
        ("Sites.FullControl.All", False),
        ("Directory.AccessAsUser.All", False),  # no "Read": not proven read-only
        ("Application.ReadUpdate.All", False),
    ],
)
def test_a_permission_is_read_only_only_when_its_name_says_so(name: str, reads: bool) -> None:

    assert read_only(name) is reads
