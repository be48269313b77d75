"""The program under the mock engine with its read side pointed at the fake Azure through
ARM_METADATA_HOSTNAME: the path `pulumi preview` takes, with real HTTPS end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fake_azure import BACKLINE_APP_ID, Assignment, Cluster, FakeAzureServer
from fake_azure import Estate as FakeEstate
from fake_pulumi import DiyBackend
from pulumi.runtime.mocks import MockResourceArgs

from backline_access.deploy.preflight import PreflightError
from backline_access.review.offline import GET_CLIENT_TOKEN, AzureError, FakeAzure, OfflineRun, run_offline

Serve = Callable[..., FakeAzureServer]
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB_A = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SUB_B = "1c2e8f4d-7a1b-4c9e-9d3f-2b8a6e5c4d10"
SUB_GONE = "2d3f9a5e-8b2c-4dae-8e4a-3c9b7f6d5e21"
SP = "99999999-9999-4999-8999-999999999999"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"


class ProviderOfFake(FakeAzure):
    """The azure-native and azuread providers as the engine would run them against the fake: the client
    config of the fake's tenant, a token the fake accepts, and the service principal the fake holds."""

    def __init__(self, fake: FakeAzureServer, token: str | None = None, propagation_reads: int = 0) -> None:
        super().__init__()
        self.fake = fake
        self.token = fake.issue_token() if token is None else token
        self.token_endpoints: list[Any] = []
        self.propagation_reads = propagation_reads

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """As azure-native would: a role assignment the engine creates appears in Azure (after propagation)."""
        created = super().new_resource(args)
        if args.typ == ASSIGNMENT and not args.resource_id:  # an import finds it in Azure already
            inputs = args.inputs
            self.fake.estate.assignments.append(
                Assignment(
                    inputs["roleAssignmentName"],
                    inputs["scope"],
                    inputs["roleDefinitionId"],
                    inputs["principalId"],
                    inputs["principalType"],
                    visible_after_reads=self.propagation_reads,
                )
            )
        return created

    def answer_client_config(self, provider: Mapping[str, Any]) -> dict[str, Any]:
        return {"tenantId": self.fake.estate.tenant, "subscriptionId": provider.get("subscriptionId")}

    def answer_client_token(self, provider: Mapping[str, Any], args: Mapping[str, Any]) -> str:
        self.token_endpoints.append(args.get("endpoint"))
        return self.token

    def answer_service_principal(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"objectId": self.fake.estate.service_principals[BACKLINE_APP_ID], "clientId": args.get("clientId")}


def world() -> FakeEstate:
    return FakeEstate(
        TENANT,
        [SUB_A, SUB_B],
        clusters=[
            Cluster(SUB_A, "rg-prod", "aks-prod"),
            Cluster(SUB_A, "rg-prod", "aks-legacy", azure_rbac=None),
            Cluster(SUB_B, "rg-404", "aks-b"),
        ],
        service_principals={BACKLINE_APP_ID: SP},
    )


def config(*clusters: tuple[str, str, str]) -> dict[str, str]:
    by_subscription: dict[str, list[dict[str, str]]] = {}
    for subscription, group, name in clusters:
        by_subscription.setdefault(subscription, []).append({"resourceGroup": group, "name": name})
    return {
        "backline-access:tenantId": TENANT,
        "backline-access:subscriptions": json.dumps([SUB_A, SUB_B]),
        "backline-access:aks": json.dumps([{"subscription": s, "clusters": c} for s, c in by_subscription.items()]),
    }


def granted(run: OfflineRun) -> list[str]:
    return sorted(r.inputs["scope"] for r in run.of_type(ASSIGNMENT))


@pytest.fixture
def fake(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> FakeAzureServer:
    server = serve(world())
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", server.host)
    monkeypatch.delenv("ARM_ENVIRONMENT", raising=False)
    return server


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_the_preflight_reads_every_cluster_over_https_as_the_providers_identity(
    fake: FakeAzureServer, preview: bool
) -> None:
    mocks = ProviderOfFake(fake)
    wanted = config((SUB_A, "rg-prod", "aks-prod"), (SUB_A, "rg-prod", "aks-legacy"), (SUB_B, "rg-404", "aks-b"))
    run = run_offline(wanted, azure=mocks, preview=preview)
    assert len(run.of_type(ASSIGNMENT)) == 5
    assert mocks.token_endpoints == [fake.url]  # a Resource Manager token of the fake's cloud, asked for once
    query = fake.calls("POST", "ResourceGraph")[0]
    assert query.body["subscriptions"] == sorted([SUB_A, SUB_B])
    # the preflight's one query; after an update, the post-deploy checks make one more
    assert len(fake.calls("POST", "ResourceGraph")) == (1 if preview else 2)
    assert fake.calls("GET", "managedClusters") == []  # every cluster came from the one query
    [warning] = [w for w in run.warnings if "Azure RBAC" in w]
    assert (
        "AKS cluster 'aks-legacy' (resource group 'rg-prod') has Azure RBAC for Kubernetes authorization disabled"
        in (warning)
    )
    [arm] = run.of_type("pulumi:providers:azure-native")
    assert arm.inputs["metadataHost"] == fake.host
    assert run.outputs["adminConsentUrl"] == f"{fake.url}/{TENANT}/adminconsent?client_id={BACKLINE_APP_ID}"


def test_a_missing_cluster_and_an_unknown_subscription_stop_the_program_before_anything_is_registered(
    fake: FakeAzureServer,
) -> None:
    mocks = ProviderOfFake(fake)
    wanted = config((SUB_A, "rg-prod", "aks-prod"), (SUB_A, "rg-prod", "aks-gone"), (SUB_GONE, "rg", "aks-x"))
    with pytest.raises(PreflightError) as error:
        run_offline(wanted, azure=mocks)
    message = str(error.value)
    assert "AKS preflight failed for 2 cluster(s); nothing was granted" in message
    assert f"AKS cluster 'aks-gone' (resource group 'rg-prod', subscription {SUB_A}) was not found." in message
    assert f"Subscription {SUB_GONE} of AKS cluster 'aks-x' was not found or is not visible" in message
    assert [t for t, _ in mocks.created if t in (ASSIGNMENT, SERVICE_PRINCIPAL)] == []
    # Calls by subscription: one query for all, then one list for each subscription with a cluster not found.
    assert len(fake.calls("POST", "ResourceGraph")) == 1
    assert sorted(r.path.split("/")[2] for r in fake.calls("GET", "managedClusters")) == sorted([SUB_A, SUB_GONE])


def test_a_forbidden_subscription_names_the_scope_and_grants_nothing(fake: FakeAzureServer) -> None:
    fake.forbid(f"/subscriptions/{SUB_B}")
    mocks = ProviderOfFake(fake)
    with pytest.raises(PreflightError) as error:
        run_offline(config((SUB_B, "rg-404", "aks-b")), azure=mocks)
    message = str(error.value)
    assert f"the deployer may not list the clusters of /subscriptions/{SUB_B} (HTTP 403 AuthorizationFailed" in message
    assert f"fix: give the deployer Reader (or more) on /subscriptions/{SUB_B}" in message
    assert "was not found" not in message  # 'rg-404' is a name, not a status


def test_a_throttled_resource_graph_is_waited_out(fake: FakeAzureServer) -> None:
    fake.throttle("ResourceGraph", times=2, retry_after="0")
    run = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=ProviderOfFake(fake), preview=True)
    assert (
        f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"
        in (granted(run))
    )
    assert len(fake.calls("POST", "ResourceGraph")) == 3


def test_a_provider_that_returns_no_token_means_could_not_be_checked(fake: FakeAzureServer) -> None:
    mocks = ProviderOfFake(fake, token="")
    with pytest.raises(
        PreflightError, match="AKS preflight could not be checked: the azure-native provider returned no"
    ):
        run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=mocks)
    assert fake.calls("POST", "ResourceGraph") == []
    assert [t for t, _ in mocks.created if t == ASSIGNMENT] == []


def test_a_token_that_cannot_be_renewed_stops_the_preflight_with_the_sign_in_fix(fake: FakeAzureServer) -> None:
    class ExpiringProvider(ProviderOfFake):
        """The provider's first token is about to expire; asked again, its credentials have expired."""

        def answer_client_token(self, provider: Mapping[str, Any], args: Mapping[str, Any]) -> str:
            if self.token_endpoints:
                raise AzureError("AADSTS700024: Client assertion is not within its valid time range.")
            return super().answer_client_token(provider, args)

    mocks = ExpiringProvider(fake, token=fake.issue_token(lifetime=60))
    with pytest.raises(PreflightError) as stopped:
        run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=mocks)
    assert "Cannot sign in to Azure as the azure-native provider" in str(stopped.value)
    assert "AADSTS700024" in str(stopped.value) and f"az login --tenant {TENANT}" in str(stopped.value)
    assert [t for t, _ in mocks.created if t == ASSIGNMENT] == []


def test_a_principal_that_does_not_exist_yet_needs_no_reads_without_clusters(fake: FakeAzureServer) -> None:
    class NewPrincipal(ProviderOfFake):
        def answer_service_principal(self, args: Mapping[str, Any]) -> dict[str, Any]:
            return FakeAzure.answer_service_principal(self, args)  # "No service principal found"

    mocks = NewPrincipal(fake)
    only_subscriptions = {"backline-access:tenantId": TENANT, "backline-access:subscriptions": json.dumps([SUB_A])}
    run = run_offline(only_subscriptions, azure=mocks, preview=True)
    assert GET_CLIENT_TOKEN not in {call.token for call in run.invokes}
    assert granted(run) == [f"/subscriptions/{SUB_A}"]


# --- adoption: access that already exists ------------------------------------------------------------


READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_GUID = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"


def script_onboarded(fake: FakeAzureServer) -> None:
    """What the bash script leaves: random names, and `/resourcegroups/` in cluster scopes."""
    prod = fake.estate.clusters[0]
    for name, scope, guid in (
        ("1a2b3c4d-0000-4000-8000-00000000000a", f"/subscriptions/{SUB_A}", READER_GUID),
        ("1a2b3c4d-0000-4000-8000-00000000000b", f"/subscriptions/{SUB_B}", READER_GUID),
        ("1a2b3c4d-0000-4000-8000-00000000000c", prod.id.replace("/resourceGroups/", "/resourcegroups/"), AKS_GUID),
    ):
        role = f"/subscriptions/{scope.split('/')[2]}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        fake.estate.assignments.append(Assignment(name, scope, role, SP))


def test_a_tenant_the_script_onboarded_is_adopted_whole_and_nothing_is_created(fake: FakeAzureServer) -> None:
    script_onboarded(fake)
    mocks = ProviderOfFake(fake)
    run = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=mocks, preview=True)
    assignments = run.of_type(ASSIGNMENT)
    assert len(assignments) == 3
    assert all(a.import_id for a in assignments)
    by_scope = {a.inputs["scope"]: a for a in assignments}
    cluster_scope = fake.estate.clusters[0].id.replace("/resourceGroups/", "/resourcegroups/")
    adopted = by_scope[cluster_scope]  # declared exactly as it exists, so the import matches
    assert adopted.inputs["roleAssignmentName"] == "1a2b3c4d-0000-4000-8000-00000000000c"
    assert (
        adopted.import_id
        == f"{cluster_scope}/providers/Microsoft.Authorization/roleAssignments/{adopted.inputs['roleAssignmentName']}"
    )
    # one listing per subscription, never one per scope
    listed = fake.calls("GET", "Authorization/roleAssignments")
    assert sorted(r.path.split("/")[2] for r in listed) == sorted([SUB_A, SUB_B])
    assert all(r.query["$filter"] == f"principalId eq '{SP}'" for r in listed)


def test_a_second_run_declares_what_the_stack_manages_with_no_import_id(fake: FakeAzureServer) -> None:
    script_onboarded(fake)
    backend = DiyBackend()
    first_mocks = ProviderOfFake(fake)
    first_mocks.backend = backend
    first = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=first_mocks)
    assert all(r.import_id for r in first.of_type(ASSIGNMENT))
    backend.deploy(first)
    # ARM now spells the resource group segment of every id otherwise than the first run saw it.
    for assignment in fake.estate.assignments:
        assignment.id_scope = assignment.scope.replace("/resourcegroups/", "/RESOURCEGROUPS/")
    second_mocks = ProviderOfFake(fake)
    second_mocks.backend = backend
    second = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=second_mocks)
    assert [r.import_id for r in second.of_type(ASSIGNMENT)] == ["", "", ""]  # an import would replace: delete
    assert [r.step for r in second.of_type(ASSIGNMENT)] == ["same", "same", "same"]
    assert second.deleted == []
    assert {r.name: r.inputs["roleAssignmentName"] for r in second.of_type(ASSIGNMENT)} == {
        r.name: r.inputs["roleAssignmentName"] for r in first.of_type(ASSIGNMENT)
    }
    ids = set(first.outputs["readerAssignments"].values()) | set(first.outputs["aksAssignments"].values())
    assert {r.import_id for r in first.of_type(ASSIGNMENT)} == ids  # the id after import is the import id


def test_an_assignment_whose_id_and_body_spell_the_scope_otherwise_is_declared_by_the_id(
    fake: FakeAzureServer,
) -> None:
    prod = fake.estate.clusters[0]
    spelled = prod.id.replace("/resourceGroups/", "/resourcegroups/")
    role = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_GUID}"
    made = Assignment("3b4c5d6e-0000-4000-8000-00000000000d", prod.id, role, SP, id_scope=spelled)
    fake.estate.assignments.append(made)
    run = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=ProviderOfFake(fake), preview=True)
    [adopted] = [r for r in run.of_type(ASSIGNMENT) if r.import_id]
    assert adopted.import_id == made.id
    assert adopted.inputs["scope"] == spelled  # what azure-native reads back from the import id, not the body's


def test_a_listing_the_deployer_may_not_read_stops_before_anything_is_registered(fake: FakeAzureServer) -> None:
    fake.forbid(f"/subscriptions/{SUB_B}")
    mocks = ProviderOfFake(fake)
    with pytest.raises(
        PreflightError, match=rf"(?s)Cannot read the existing role assignments .*/subscriptions/{SUB_B}: HTTP 403"
    ):
        run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=mocks, preview=True)
    assert [t for t, _ in mocks.created if t in (ASSIGNMENT, SERVICE_PRINCIPAL)] == []


# --- after the update: the post-deploy checks ------------------------------------------------------


def test_after_an_update_the_checks_run_once_and_pass(fake: FakeAzureServer) -> None:
    run = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=ProviderOfFake(fake))
    verification = run.outputs["verification"]
    assert {k: verification[k] for k in ("pass", "pending", "fail", "unknown")} == {
        "pass": 7,  # six grants and checks, and least privilege in Azure: nothing beyond them
        "pending": 0,
        "fail": 0,
        "unknown": 1,  # Entra ID's half: the provider's token is for Resource Manager only
    }
    [entra] = verification["notPassing"]
    assert entra["scope"].endswith("in Entra ID") and entra["evidence"].startswith("not read by pulumi up")
    assert entra["fix"] == "backline-access verify reads it"
    assert not run.warnings  # what pulumi up can never read is in the output, not a warning on every update
    assert verification["next"] == "backline-access verify --stack dev"
    assert "verification" in run.registered_outputs[run.of_type("backline:index:BacklineAccess")[0].urn]


def test_grants_that_have_not_propagated_are_pending_and_do_not_fail_the_update(fake: FakeAzureServer) -> None:
    run = run_offline(config((SUB_A, "rg-prod", "aks-legacy")), azure=ProviderOfFake(fake, propagation_reads=5))
    verification = run.outputs["verification"]
    assert verification["pending"] == 3 and verification["fail"] == 1  # three grants; aks-legacy has RBAC off
    statuses = {(c["check"], c["status"]) for c in verification["notPassing"]}
    assert ("Reader", "pending") in statuses and ("Azure RBAC for Kubernetes", "fail") in statuses
    assert any("Run backline-access verify --stack dev to wait for Azure" in w for w in run.warnings)


def test_a_preview_has_no_verification(fake: FakeAzureServer) -> None:
    run = run_offline(config((SUB_A, "rg-prod", "aks-prod")), azure=ProviderOfFake(fake), preview=True)
    assert "verification" not in run.outputs


# --- every cluster of a subscription (all: true) -----------------------------------------------------


def every_cluster_of(subscription: str, *exclude: str) -> dict[str, str]:
    entry: dict[str, Any] = {"subscription": subscription, "all": True}
    if exclude:
        entry["exclude"] = [{"resourceGroup": "rg-prod", "name": name} for name in exclude]
    return {
        "backline-access:tenantId": TENANT,
        "backline-access:subscriptions": json.dumps([SUB_A]),
        "backline-access:aks": json.dumps([entry]),
    }


def cluster_grants(run: OfflineRun) -> list[str]:
    return [scope.rsplit("/", 1)[-1] for scope in granted(run) if "managedClusters" in scope]


def test_all_true_grants_every_cluster_found_but_the_excluded_and_warns_about_rbac_off(fake: FakeAzureServer) -> None:
    run = run_offline(every_cluster_of(SUB_A, "aks-prod"), azure=ProviderOfFake(fake), preview=True)
    assert cluster_grants(run) == ["aks-legacy"]
    assert any("'aks-legacy'" in w and "Azure RBAC" in w for w in run.warnings)
    # one ARM list of the subscription beside Resource Graph's answer, no read per cluster
    assert [r.path for r in fake.calls("GET", "managedClusters")] == [
        f"/subscriptions/{SUB_A}/providers/Microsoft.ContainerService/managedClusters"
    ]


def test_all_true_grants_a_cluster_resource_graph_has_not_indexed_yet_but_not_an_excluded_one(
    fake: FakeAzureServer,
) -> None:
    for name in ("aks-new", "aks-new-excluded"):
        cluster = Cluster(SUB_A, "rg-prod", name)
        fake.estate.clusters.append(cluster)
        fake.faults.lagging_in_resource_graph.add(cluster.id)
    run = run_offline(every_cluster_of(SUB_A, "aks-new-excluded"), azure=ProviderOfFake(fake), preview=True)
    assert cluster_grants(run) == ["aks-legacy", "aks-new", "aks-prod"]


def test_all_true_follows_the_estate_between_runs(fake: FakeAzureServer) -> None:
    before = run_offline(every_cluster_of(SUB_A), azure=ProviderOfFake(fake), preview=True)
    assert cluster_grants(before) == ["aks-legacy", "aks-prod"]
    fake.estate.clusters = [c for c in fake.estate.clusters if c.name != "aks-legacy"]
    fake.estate.clusters.append(Cluster(SUB_A, "rg-new", "aks-new"))
    after = run_offline(every_cluster_of(SUB_A), azure=ProviderOfFake(fake), preview=True)
    assert cluster_grants(after) == ["aks-new", "aks-prod"]


def test_all_true_on_a_subscription_the_deployer_may_not_read_grants_nothing(fake: FakeAzureServer) -> None:
    fake.forbid(f"/subscriptions/{SUB_B}")  # Resource Graph leaves it out silently; the ARM listing says 403
    mocks = ProviderOfFake(fake)
    with pytest.raises(PreflightError, match=rf"(?s)Cannot list the AKS clusters .*/subscriptions/{SUB_B}: HTTP 403"):
        run_offline(every_cluster_of(SUB_B), azure=mocks, preview=True)
    assert [t for t, _ in mocks.created if t in (ASSIGNMENT, SERVICE_PRINCIPAL)] == []


# --- management groups ---------------------------------------------------------------------------------

SUB_C = "3e4a0b6f-9c3d-4ebf-9f5b-4d0c8a7e6f32"
SUB_D = "4f5b1c7a-0d4e-4fc0-a06c-5e1d9b8f7a43"
GROUP_SCOPE = "/providers/Microsoft.Management/managementGroups/platform"


@pytest.fixture
def grouped(fake: FakeAzureServer) -> FakeAzureServer:
    """platform > (SUB_A, prod > (SUB_C, SUB_D)): three subscriptions below `platform`, one of them nested."""
    fake.estate.subscriptions += [SUB_C, SUB_D]
    fake.estate.management_groups = {"platform": [SUB_A, "prod"], "prod": [SUB_C, SUB_D]}
    return fake


def with_groups(*groups: str, subscriptions: tuple[str, ...] = (SUB_A,)) -> dict[str, str]:
    wanted = {"backline-access:tenantId": TENANT, "backline-access:managementGroups": json.dumps(list(groups))}
    if subscriptions:
        wanted["backline-access:subscriptions"] = json.dumps(list(subscriptions))
    return wanted


def test_a_management_group_gets_reader_and_subscription_ids_list_every_subscription_below(
    grouped: FakeAzureServer,
) -> None:
    run = run_offline(with_groups("platform"), azure=ProviderOfFake(grouped))
    [group_grant] = [r for r in run.of_type(ASSIGNMENT) if r.inputs["scope"] == GROUP_SCOPE]
    assert group_grant.inputs["roleDefinitionId"] == f"/providers/Microsoft.Authorization/roleDefinitions/{READER_GUID}"
    assert group_grant.import_id == ""  # nothing there yet: created
    assert run.outputs["subscriptionIds"] == ",".join(sorted([SUB_A, SUB_C, SUB_D]))  # no duplicate of SUB_A
    assert list(run.outputs["managementGroupAssignments"]) == ["platform"]
    assert list(run.outputs["readerAssignments"]) == [SUB_A]
    [redundant] = [w for w in run.warnings if "redundant" in w]
    assert redundant.startswith(f"subscriptions[0]: {SUB_A} is below management group platform, whose Reader")
    assert len(grouped.calls("GET", "descendants")) == 1
    listings = grouped.calls("GET", "Authorization/roleAssignments")
    listed = sorted(r.path.split("/providers/Microsoft.Authorization")[0] for r in listings)
    # adoption lists the subscription and the group once each; the post-deploy checks the same again
    assert listed == sorted([GROUP_SCOPE, f"/subscriptions/{SUB_A}"] * 2)
    verification = run.outputs["verification"]
    assert (verification["pass"], verification["fail"], verification["pending"]) == (5, 0, 0)


def test_a_group_only_config_grants_at_the_group_and_names_no_provider_subscription(grouped: FakeAzureServer) -> None:
    run = run_offline(with_groups("platform", subscriptions=()), azure=ProviderOfFake(grouped), preview=True)
    assert granted(run) == [GROUP_SCOPE]
    [arm] = run.of_type("pulumi:providers:azure-native")
    assert "subscriptionId" not in arm.inputs  # Azure CLI sign-in uses its default subscription
    assert run.outputs["subscriptionIds"] == ",".join(sorted([SUB_A, SUB_C, SUB_D]))


def test_an_existing_reader_at_the_group_is_adopted(grouped: FakeAzureServer) -> None:
    role = f"/providers/Microsoft.Authorization/roleDefinitions/{READER_GUID}"
    grouped.estate.assignments.append(Assignment("5c6d7e8f-0000-4000-8000-000000000001", GROUP_SCOPE, role, SP))
    run = run_offline(with_groups("platform", subscriptions=()), azure=ProviderOfFake(grouped), preview=True)
    [adopted] = run.of_type(ASSIGNMENT)
    assert adopted.import_id == f"{GROUP_SCOPE}/providers/Microsoft.Authorization/roleAssignments/" + (
        "5c6d7e8f-0000-4000-8000-000000000001"
    )
    assert adopted.inputs["roleDefinitionId"] == role


@pytest.mark.parametrize("problem", ["missing", "forbidden"])
def test_a_group_that_is_missing_or_unreadable_stops_before_anything_is_registered(
    grouped: FakeAzureServer, problem: str
) -> None:
    group = "nosuchgroup" if problem == "missing" else "platform"
    if problem == "forbidden":
        grouped.forbid(GROUP_SCOPE)
    mocks = ProviderOfFake(grouped)
    with pytest.raises(PreflightError) as error:
        run_offline(with_groups(group), azure=mocks, preview=True)
    message = str(error.value)
    assert "Cannot read the management groups of the stack config; nothing was granted" in message
    assert f"managementGroups: {group} does not exist, or the deployer may not read it (HTTP " in message
    assert "403 AuthorizationFailed" in message if problem == "forbidden" else "404 NotFound" in message
    assert "fix: use the group's id, not its display name (az account management-group list --query" in message
    assert [t for t, _ in mocks.created if t in (ASSIGNMENT, SERVICE_PRINCIPAL)] == []
