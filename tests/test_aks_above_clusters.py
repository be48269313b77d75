"""AKS RBAC Reader above clusters (`grantAt: subscription`, `resourceGroups`, `managementGroup`): the config and
its schema, the grants and what the plan says of them, the preflight over HTTPS, adoption, the switch from
per-cluster grants, verify, the outputs and init."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fake_azure import BACKLINE_APP_ID, Assignment, Cluster, FakeAzureServer
from fake_azure import Estate as FakeEstate
from fake_pulumi import DiyBackend
from test_program_http import ASSIGNMENT, SP, SUB_A, SUB_B, TENANT, ProviderOfFake, granted

from backline_access.config import ConfigError, parse_config
from backline_access.config.roles import AKS_RBAC_READER, READER, assignment_name
from backline_access.deploy.preflight import PreflightError
from backline_access.plan import build_plan
from backline_access.review.offline import OfflineRun, run_offline
from backline_access.verify.checks import verify

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "backline_access" / "stack-config.schema.json").read_text(encoding="utf-8"))
AKS_GUID = AKS_RBAC_READER.guid
GROUP = "platform"
GROUP_SCOPE = f"/providers/Microsoft.Management/managementGroups/{GROUP}"


def raw(*aks: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"tenantId": TENANT, "subscriptions": [SUB_A, SUB_B], "aks": list(aks), **more}


def handed_over(*aks: dict[str, Any], **more: Any) -> dict[str, str]:
    config = raw(*aks, **more)
    return {
        f"backline-access:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }


def schema_errors(config: dict[str, Any]) -> list[str]:
    document = {"config": {f"backline-access:{key}": value for key, value in config.items()}}
    return [error.message for error in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]


# --- the config ----------------------------------------------------------------------------------------------

MISUSES = [
    (
        "grantAt without all",
        {"subscription": SUB_A, "grantAt": "subscription", "clusters": [{"resourceGroup": "rg", "name": "a"}]},
        "aks[0].grantAt: grantAt: subscription goes with all: true",
        "replace clusters with all: true",
    ),
    (
        "grantAt with exclude",
        {
            "subscription": SUB_A,
            "all": True,
            "grantAt": "subscription",
            "exclude": [{"resourceGroup": "rg", "name": "a"}],
        },
        "aks[0].exclude: cannot leave a cluster out with grantAt: subscription",
        "grantAt: cluster (the default: one grant per cluster found at each pulumi up) keeps exclude",
    ),
    (
        "resourceGroups with all",
        {"subscription": SUB_A, "resourceGroups": ["rg-prod"], "all": True},
        "aks[0].all: resourceGroups replaces clusters and all in its entry",
        "keep resourceGroups, or list the clusters",
    ),
    (
        "resourceGroups with clusters",
        {"subscription": SUB_A, "resourceGroups": ["rg-prod"], "clusters": [{"resourceGroup": "rg", "name": "a"}]},
        "aks[0].clusters: resourceGroups replaces clusters and all in its entry",
        None,
    ),
    (
        "managementGroup with a subscription",
        {"managementGroup": GROUP, "subscription": SUB_A},
        "aks[0].subscription: a managementGroup entry takes no other key",
        None,
    ),
    (
        "grantAt of another kind",
        {"subscription": SUB_A, "all": True, "grantAt": "resourceGroup"},
        "aks[0].grantAt: 'resourceGroup' must be 'cluster' or 'subscription'",
        None,
    ),
    ("neither subscription nor managementGroup", {"all": True}, "aks[0].subscription: needs subscription", None),
]


@pytest.mark.parametrize(("entry", "expected", "fix"), [m[1:] for m in MISUSES], ids=[m[0] for m in MISUSES])
def test_each_misuse_is_a_config_error_with_its_path_and_fix_and_the_schema_refuses_it(
    entry: dict[str, Any], expected: str, fix: str | None
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw(entry))
    [problem] = [p.render() for p in error.value.problems]
    assert problem.startswith(expected), problem
    if fix:
        assert f"fix: {fix}" in problem
    assert schema_errors(raw(entry)) != []


@pytest.mark.parametrize(
    "entry",
    [
        {"subscription": SUB_A, "all": True, "grantAt": "subscription"},
        {"subscription": SUB_A, "resourceGroups": ["rg-prod", "rg-dev"]},
        {"managementGroup": GROUP},
        {"subscription": SUB_A, "all": True, "grantAt": "cluster", "exclude": [{"resourceGroup": "rg", "name": "a"}]},
    ],
    ids=["subscription", "resource-groups", "management-group", "grant-at-cluster"],
)
def test_the_three_broad_forms_and_the_default_are_valid_for_the_program_and_the_schema(entry: dict[str, Any]) -> None:
    parse_config(raw(entry))
    assert schema_errors(raw(entry)) == []


# --- the grants and the plan ---------------------------------------------------------------------------------


def test_one_grant_per_broad_scope_with_its_deterministic_name_and_the_tenant_level_role_at_a_group() -> None:
    plan = build_plan(
        parse_config(
            raw(
                {"subscription": SUB_A, "all": True, "grantAt": "subscription"},
                {"subscription": SUB_B, "resourceGroups": ["rg-prod", "rg-dev"]},
                {"managementGroup": GROUP},
            )
        )
    )
    aks = {(a.scope, a.role_definition_id, a.name) for a in plan.assignments if a.role == AKS_RBAC_READER}
    rg = f"/subscriptions/{SUB_B}/resourceGroups"
    assert aks == {
        (
            f"/subscriptions/{SUB_A}",
            AKS_RBAC_READER.definition_id(SUB_A),
            assignment_name(f"/subscriptions/{SUB_A}", AKS_RBAC_READER),
        ),
        (f"{rg}/rg-prod", AKS_RBAC_READER.definition_id(SUB_B), assignment_name(f"{rg}/rg-prod", AKS_RBAC_READER)),
        (f"{rg}/rg-dev", AKS_RBAC_READER.definition_id(SUB_B), assignment_name(f"{rg}/rg-dev", AKS_RBAC_READER)),
        (
            GROUP_SCOPE,
            f"/providers/Microsoft.Authorization/roleDefinitions/{AKS_GUID}",
            assignment_name(GROUP_SCOPE, AKS_RBAC_READER),
        ),
    }
    keys = sorted(a.key for a in plan.broad_grants)
    assert keys == sorted(
        [
            f"aks-rbac-reader-{SUB_A}",
            f"aks-rbac-reader-rg-{SUB_B}-rg-prod",
            f"aks-rbac-reader-rg-{SUB_B}-rg-dev",
            "aks-rbac-reader-mg-platform",
        ]
    )
    assert plan.clusters == ()  # no grant per cluster, and no cluster list is needed to grant


def test_every_format_of_the_plan_shows_each_broad_grant_as_what_it_reaches(stack_file: Callable[[str], Path]) -> None:
    from backline_access.config.source import handed_over_config, load_config
    from backline_access.review.formats import mermaid_lines, render_az, render_markdown
    from backline_access.review.report import plan_document, render_text

    text = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - {{subscription: {SUB_A}, all: true, grantAt: subscription}}
    - {{subscription: {SUB_B}, resourceGroups: [rg-prod]}}
"""
    config = handed_over_config(stack_file(text))
    document = plan_document(load_config(config), run_offline(config))
    reach = f"every AKS cluster in subscription {SUB_A}, present and future"
    [broad] = [
        a for a in document["assignments"] if a["scope"] == f"/subscriptions/{SUB_A}" and a["role"] != READER.name
    ]
    assert broad["reach"] == reach
    assert " ".join(render_text(document).split()).count(f"AKS RBAC Reader on {reach}") == 2  # summary and grant
    assert f"`/subscriptions/{SUB_A}` ({reach})" in render_markdown(document)
    assert f"# Azure Kubernetes Service RBAC Reader on {reach}" in render_az(document)
    diagram = "\n".join(mermaid_lines(document))
    assert "every AKS cluster<br/>present and future" in diagram
    assert "every AKS cluster in resource group rg-prod<br/>present and future" in diagram


# --- the preflight, over HTTPS ---------------------------------------------------------------------------------


def estate() -> FakeEstate:
    return FakeEstate(
        TENANT,
        [SUB_A, SUB_B],
        management_groups={GROUP: [SUB_B]},
        clusters=[
            Cluster(SUB_A, "rg-prod", "aks-prod"),
            Cluster(SUB_A, "rg-dev", "aks-dev", azure_rbac=False),
            Cluster(SUB_B, "rg-b", "aks-b", azure_rbac=None),
        ],
        service_principals={BACKLINE_APP_ID: SP},
    )


@pytest.fixture
def fake(serve: Callable[..., FakeAzureServer], monkeypatch: pytest.MonkeyPatch) -> FakeAzureServer:
    server = serve(estate())
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", server.host)
    monkeypatch.delenv("ARM_ENVIRONMENT", raising=False)
    return server


def run(fake: FakeAzureServer, *aks: dict[str, Any], backend: DiyBackend | None = None, **more: Any) -> OfflineRun:
    mocks = ProviderOfFake(fake)
    if backend is not None:
        mocks.backend = backend
    return run_offline(handed_over(*aks, **more), azure=mocks, preview=True)


def test_a_broad_grant_warns_per_cluster_below_it_with_azure_rbac_off_in_one_listing_per_subscription(
    fake: FakeAzureServer,
) -> None:
    result = run(fake, {"subscription": SUB_A, "all": True, "grantAt": "subscription"}, {"managementGroup": GROUP})
    assert f"/subscriptions/{SUB_A}" in granted(result) and GROUP_SCOPE in granted(result)
    warnings = [w for w in result.warnings if "Azure RBAC for Kubernetes authorization disabled" in w]
    assert len(warnings) == 2
    assert any(
        f"az aks update --resource-group rg-dev --name aks-dev --enable-azure-rbac --subscription {SUB_A}" in w
        for w in warnings
    )
    assert any("AKS cluster 'aks-b' (resource group 'rg-b')" in w for w in warnings)  # below the group
    listed = sorted(r.path.split("/")[2] for r in fake.calls("GET", "managedClusters"))
    assert listed in ([], sorted([SUB_A, SUB_B]))  # Resource Graph answers, or one ARM list per subscription
    assert len(fake.calls("POST", "ResourceGraph")) == 1


def test_with_aks_require_azure_rbac_a_cluster_below_a_broad_grant_stops_the_run(fake: FakeAzureServer) -> None:
    mocks = ProviderOfFake(fake)
    with pytest.raises(PreflightError, match=r"aks-dev.*aksRequireAzureRbac is true"):
        run_offline(
            handed_over({"subscription": SUB_A, "resourceGroups": ["rg-dev"]}, aksRequireAzureRbac="true"), azure=mocks
        )
    assert [t for t, _ in mocks.created if t == ASSIGNMENT] == []


def test_an_equivalent_grant_at_the_subscription_made_by_hand_is_adopted_not_created_twice(
    fake: FakeAzureServer,
) -> None:
    role = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_GUID}"
    fake.estate.assignments.append(
        Assignment("5a5a5a5a-0000-4000-8000-00000000005a", f"/subscriptions/{SUB_A}", role, SP)
    )
    result = run(fake, {"subscription": SUB_A, "all": True, "grantAt": "subscription"})
    [broad] = [r for r in result.of_type(ASSIGNMENT) if r.inputs["roleDefinitionId"].endswith(AKS_GUID)]
    assert broad.step == "import"
    made = "5a5a5a5a-0000-4000-8000-00000000005a"
    assert broad.import_id == f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleAssignments/{made}"


# --- the switch from per-cluster grants ------------------------------------------------------------------------


def test_switching_to_a_grant_at_the_subscription_keeps_the_per_cluster_grants_until_it_exists(
    fake: FakeAzureServer,
) -> None:
    backend = DiyBackend()
    per_cluster = {"subscription": SUB_A, "all": True}
    mocks = ProviderOfFake(fake)
    mocks.backend = backend
    first = run_offline(handed_over(per_cluster), azure=mocks)  # an update: the fake now holds what it made
    backend.deploy(first)
    clusters = {r.urn for r in first.of_type(ASSIGNMENT) if "managedClusters" in r.inputs["scope"]}
    assert len(clusters) == 2

    mocks = ProviderOfFake(fake)
    mocks.backend = backend
    second = run_offline(handed_over({**per_cluster, "grantAt": "subscription"}), azure=mocks)
    steps = {r.urn: r.step for r in second.of_type(ASSIGNMENT)}
    assert [steps[urn] for urn in clusters] == ["same", "same"]  # kept for this update
    assert "create" in steps.values()  # the grant at the subscription
    assert second.deleted == []
    [warning] = [w for w in second.warnings if "kept for this update" in w]
    assert "Backline is never without access" in warning
    backend.deploy(second)

    mocks = ProviderOfFake(fake)
    mocks.backend = backend
    third = run_offline(handed_over({**per_cluster, "grantAt": "subscription"}), azure=mocks, preview=True)
    assert sorted(third.deleted) == sorted(clusters)  # the grant at the subscription is in Azure: they go now
    assert not [w for w in third.warnings if "kept for this update" in w]


# --- verify and the outputs ------------------------------------------------------------------------------------


def test_verify_counts_a_cluster_covered_by_the_grant_above_it_and_checks_its_azure_rbac(
    serve: Callable[..., FakeAzureServer],
) -> None:
    from test_verification import signed_in

    world = estate()
    world.clients = {"verifier": "s3cret"}
    role = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_GUID}"
    world.assignments = [
        Assignment("r-a", f"/subscriptions/{SUB_A}", role.replace(AKS_GUID, READER.guid), SP),
        Assignment("r-b", f"/subscriptions/{SUB_B}", role.replace(SUB_A, SUB_B).replace(AKS_GUID, READER.guid), SP),
        Assignment("k-sub", f"/subscriptions/{SUB_A}", role, SP),
    ]
    reader, cloud = signed_in(serve(world))
    access = parse_config(raw({"subscription": SUB_A, "all": True, "grantAt": "subscription"}))
    prod = world.clusters[0]
    dev = world.clusters[1]
    from backline_access.config import ClusterId

    covered = [ClusterId.of(c.subscription, c.resource_group, c.name) for c in (prod, dev)]
    checks = {(c.check, c.scope): c for c in verify(build_plan(access, covered=covered), reader, cloud)}
    broad = checks[(AKS_RBAC_READER.name, f"/subscriptions/{SUB_A}")]
    assert broad.status == "pass" and broad.evidence == "assignment k-sub at this scope"
    inherited = checks[(AKS_RBAC_READER.name, prod.id)]
    assert inherited.status == "pass" and inherited.evidence.startswith(f"inherited from /subscriptions/{SUB_A}")
    assert checks[("Azure RBAC for Kubernetes", prod.id)].status == "pass"
    assert checks[("Azure RBAC for Kubernetes", dev.id)].status == "fail"
    assert not [c for c in checks.values() if c.check == "least privilege" and c.status == "warn"]


def test_an_unplanned_grant_above_clusters_is_more_than_the_stack_grants(serve: Callable[..., FakeAzureServer]) -> None:
    from test_verification import signed_in

    world = estate()
    world.clients = {"verifier": "s3cret"}
    role = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{AKS_GUID}"
    world.assignments = [
        Assignment("r-a", f"/subscriptions/{SUB_A}", role.replace(AKS_GUID, READER.guid), SP),
        Assignment("k-sub", f"/subscriptions/{SUB_A}", role, SP),
    ]
    reader, cloud = signed_in(serve(world))
    checks = verify(build_plan(parse_config({"tenantId": TENANT, "subscriptions": [SUB_A]})), reader, cloud)
    [extra] = [c for c in checks if c.check == "least privilege" and c.status == "warn"]
    assert extra.scope == f"/subscriptions/{SUB_A}" and "more than this stack grants" in extra.evidence


def test_the_outputs_key_broad_grants_by_scope_and_show_the_inherited_check(fake: FakeAzureServer) -> None:
    result = run(fake, {"subscription": SUB_A, "all": True, "grantAt": "subscription"})
    assert set(result.outputs["aksAssignments"]) == {f"/subscriptions/{SUB_A}"}
    inherited = [c for c in result.outputs["verificationCommands"] if "--include-inherited" in c]
    prod = estate().clusters[0].id
    assert f"az role assignment list --scope {prod} --assignee {SP} --include-inherited " in " ".join(inherited)


# --- init ---------------------------------------------------------------------------------------------------


def test_init_writes_grant_at_subscription_when_asked_for(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from backline_access.cli import app

    (tmp_path / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    import os

    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(
            app,
            [
                "init",
                "--stack",
                "prod",
                "--tenant",
                TENANT,
                "--aks-sub",
                SUB_A,
                "--aks-all",
                "--aks-grant-at",
                "subscription",
                "--yes",
            ],
            env={"PATH": "", "ARM_CLIENT_ID": ""},
        )
        refused = CliRunner().invoke(
            app, ["init", "--stack", "prod", "--aks-sub", SUB_A, "--aks-grant-at", "subscription"]
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    written = (tmp_path / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    assert f"- subscription: {SUB_A}\n      all: true\n      grantAt: subscription" in written
    assert "every cluster, present and future, by one grant at the subscription" in result.stdout
    assert refused.exit_code == 2 and "--aks-grant-at goes with --aks-all" in refused.output


def test_a_grant_reaches_the_clusters_below_its_scope_and_no_others() -> None:
    from backline_access.config import ClusterId

    plan = build_plan(
        parse_config(raw({"subscription": SUB_A, "resourceGroups": ["rg-dev"]}, {"managementGroup": GROUP})),
        below={GROUP: [SUB_B]},
    )
    by_rg = next(g for g in plan.broad_grants if g.resource_group == "rg-dev")
    by_group = next(g for g in plan.broad_grants if g.management_group == GROUP)
    assert by_rg.covers(ClusterId.of(SUB_A, "RG-DEV", "a"))
    assert not by_rg.covers(ClusterId.of(SUB_A, "rg-dev2", "a"))  # a name that starts alike is another group
    assert by_group.covers(ClusterId.of(SUB_B, "rg", "b"), plan.aks_groups_below)
    assert not by_group.covers(ClusterId.of(SUB_A, "rg", "b"), plan.aks_groups_below)


def test_a_per_cluster_grant_below_a_new_group_grant_is_kept_until_that_grant_exists() -> None:
    from backline_access.deploy.adoption import adopt
    from backline_access.deploy.stack_state import StackState, StateResource
    from backline_access.deploy.urn import Urn

    cluster = f"/subscriptions/{SUB_B}/resourceGroups/rg-b/providers/Microsoft.ContainerService/managedClusters/aks-b"
    urn = Urn.parse(f"urn:pulumi:dev::p::backline:index:BacklineAccess${ASSIGNMENT}::backline-old")
    outputs = {
        "name": assignment_name(cluster, AKS_RBAC_READER),
        "scope": cluster,
        "roleDefinitionId": AKS_RBAC_READER.definition_id(SUB_B),
        "principalId": SP,
    }
    state = StackState((StateResource(urn, ASSIGNMENT, outputs),))
    plan = build_plan(parse_config(raw({"managementGroup": GROUP})), below={GROUP: [SUB_B.upper()]})
    kept = adopt(plan, SP, {}, state).bridged
    assert [grant.scope for _, grant in kept] == [cluster]
    elsewhere = build_plan(parse_config(raw({"managementGroup": GROUP})), below={GROUP: [SUB_A]})
    assert adopt(elsewhere, SP, {}, state).bridged == []  # the group does not reach that cluster
