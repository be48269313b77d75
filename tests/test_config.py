"""Stack config validation: every bad input gets one message with its path, value and fix."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SUB_A, SUB_B, TENANT

from backline_access.config.model import AccessConfig, UndecodedJson, parse_config
from backline_access.config.problems import ConfigError

CLUSTER_ID = (
    f"/subscriptions/{SUB_A}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"
)
SUBS_FIX = 'az account list --query "[].id" -o tsv'
TENANT_FIX = "az account show --query tenantId -o tsv"


def valid(**overrides: Any) -> dict[str, Any]:
    return {"tenantId": TENANT, "subscriptions": [SUB_A], **overrides}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    return [problem.render() for problem in error.value.problems]


BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("missing tenant", {"subscriptions": [SUB_A]}, f"tenantId: is required\n    fix: {TENANT_FIX}"),
    (
        "tenant in braces",
        valid(tenantId="{" + TENANT + "}"),
        f"tenantId: '{{{TENANT}}}' has braces; write it as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx without them\n"
        f"    fix: {TENANT_FIX}",
    ),
    (
        "urn:uuid subscription",
        valid(subscriptions=[f"urn:uuid:{SUB_A}"]),
        f"subscriptions[0]: 'urn:uuid:{SUB_A}' has a 'urn:uuid:' prefix; write it as "
        f"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx without it\n    fix: {SUBS_FIX}",
    ),
    (
        "hyphen-less subscription",
        valid(subscriptions=[SUB_B.replace("-", "")]),
        f"subscriptions[0]: '{SUB_B.replace('-', '')}' has no hyphens; write it as "
        f"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n    fix: {SUBS_FIX}",
    ),
    (
        "not hex",
        valid(subscriptions=["1111111g-1111-1111-1111-111111111111"]),
        "subscriptions[0]: '1111111g-1111-1111-1111-111111111111' is not a GUID of the form "
        f"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits)\n    fix: {SUBS_FIX}",
    ),
    (
        "duplicate subscription differing in case",
        valid(subscriptions=["aaaaaaaa-1111-1111-1111-111111111111", "AAAAAAAA-1111-1111-1111-111111111111"]),
        "subscriptions[1]: 'AAAAAAAA-1111-1111-1111-111111111111' is listed twice (also at subscriptions[0]); "
        f"remove one of them\n    fix: {SUBS_FIX}",
    ),
    (
        "subscriptions as a comma string",
        valid(subscriptions=f"{SUB_A},{SUB_B}"),
        f"subscriptions: '{SUB_A},{SUB_B}' must be a YAML list, not a comma-separated string; write it as:\n"
        f"        backline-access:subscriptions:\n          - {SUB_A}\n          - {SUB_B}\n    fix: {SUBS_FIX}",
    ),
    (
        "typo in a top-level key",
        {**valid(), "subscription": [SUB_B]},
        f'subscription: ["{SUB_B}"] is not a known key (a typo here would silently grant nothing); '
        "did you mean 'subscriptions'?",
    ),
    (
        "typo in a cluster key",
        valid(aks=[{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg", "nmae": "aks"}]}]),
        "aks[0].clusters[0].nmae: 'aks' is not a known key (a typo here would silently grant nothing); "
        "did you mean 'name'?",
    ),
    (
        "bad cluster name",
        valid(aks=[{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg", "name": "aks_prod-"}]}]),
        "aks[0].clusters[0].name: 'aks_prod-' is not a valid AKS cluster name (1-63 letters, digits, '_' or '-', "
        "starting and ending with a letter or digit)\n"
        f"    fix: az aks list --subscription {SUB_A} "
        '--query "[].{name:name, resourceGroup:resourceGroup, id:id}" -o table',
    ),
    (
        "resource group ending in a period",
        valid(aks=[{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg.", "name": "aks"}]}]),
        "aks[0].clusters[0].resourceGroup: 'rg.' is not a valid resource group name",
    ),
    (
        "cluster string that is no resource id",
        valid(aks=[{"subscription": SUB_A, "clusters": ["aks-prod"]}]),
        "aks[0].clusters[0]: 'aks-prod' is neither an AKS resource id",
    ),
    (
        "cluster id of another subscription",
        valid(aks=[{"subscription": SUB_B, "clusters": [CLUSTER_ID]}]),
        f"aks[0].clusters[0]: '{CLUSTER_ID}' is in subscription {SUB_A}, not in this entry's subscription {SUB_B}",
    ),
    (
        "same cluster twice, once as id",
        valid(
            aks=[
                {
                    "subscription": SUB_A,
                    "clusters": [{"resourceGroup": "RG-Prod", "name": "aks-prod"}, CLUSTER_ID],
                }
            ]
        ),
        f"aks[0].clusters[1]: '{CLUSTER_ID}' is listed twice (also at aks[0].clusters[0]); remove one of them",
    ),
    (
        "same aks subscription twice",
        valid(
            aks=[
                {"subscription": SUB_A, "clusters": [CLUSTER_ID]},
                {"subscription": SUB_A.upper(), "clusters": [{"resourceGroup": "rg", "name": "b"}]},
            ]
        ),
        f"aks[1].subscription: '{SUB_A.upper()}' is listed twice (also at aks[0].subscription); "
        "merge their clusters into one entry",
    ),
    (
        "aks all: true beside clusters",
        valid(aks=[{"subscription": SUB_A, "clusters": [CLUSTER_ID], "all": True}]),
        "aks[0].clusters: lists clusters and sets all: true; keep one (all: true takes every cluster, exclude "
        "leaves some out)",
    ),
    (
        "exclude without all",
        valid(aks=[{"subscription": SUB_A, "clusters": [CLUSTER_ID], "exclude": [CLUSTER_ID]}]),
        "aks[0].exclude: only goes with all: true",
    ),
    (
        "cluster mapping naming another subscription",
        valid(aks=[{"subscription": SUB_A, "clusters": [{"subscription": SUB_B, "resourceGroup": "rg", "name": "c"}]}]),
        f'aks[0].clusters[0]: {{"name": "c", "resourceGroup": "rg", "subscription": "{SUB_B}"}} is in '
        f"subscription {SUB_B}, not in this entry's subscription {SUB_A}",
    ),
    (
        "aks entry without clusters",
        valid(aks=[{"subscription": SUB_A, "clusters": []}]),
        "aks[0].clusters: must not be empty (or set all: true for every cluster of the subscription",
    ),
    (
        "unknown service principal mode",
        valid(servicePrincipal={"mode": "create"}),
        "servicePrincipal.mode: 'create' must be 'ensure' or 'existing'",
    ),
    (
        "deleteOnDestroy with existing",
        valid(servicePrincipal={"mode": "existing", "deleteOnDestroy": True}),
        "servicePrincipal.deleteOnDestroy: deleteOnDestroy: true needs mode 'ensure' without objectId "
        "(mode is 'existing': this stack does not manage the service principal)",
    ),
    (
        "object id with braces",
        valid(servicePrincipal={"objectId": "{" + SUB_A + "}"}),
        "servicePrincipal.objectId: '{" + SUB_A + "}' has braces; write it as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx "
        "without them\n    fix: az ad sp show --id 3fc75f55-e53f-4950-9127-665106cded58 --query id -o tsv",
    ),
    (
        "nothing to grant",
        {"tenantId": TENANT},
        "subscriptions: nothing to grant: list subscriptions (Reader), managementGroups (Reader on every "
        "subscription below them) and/or aks clusters (AKS RBAC Reader)",
    ),
    (
        "object id that is the application id",
        valid(servicePrincipal={"objectId": "3fc75f55-e53f-4950-9127-665106cded58"}),
        "servicePrincipal.objectId: '3fc75f55-e53f-4950-9127-665106cded58' is Backline's application (client) id, "
        "not the object id of its service principal in your tenant (Azure would answer PrincipalNotFound)\n"
        "    fix: az ad sp show --id 3fc75f55-e53f-4950-9127-665106cded58 --query id -o tsv",
    ),
    (
        "snake-case key in a stack file",
        valid(aks=[{"subscription": SUB_A, "clusters": [{"resource_group": "rg", "name": "aks"}]}]),
        "aks[0].clusters[0].resource_group: 'rg' is not a known key (a typo here would silently grant nothing); "
        "did you mean 'resourceGroup'?",
    ),
    (
        "subscriptions as broken JSON",
        valid(subscriptions=UndecodedJson(f'["{SUB_A}",]', "Expecting value at character 41")),
        f"subscriptions: '[\"{SUB_A}\",]' is not valid JSON (Expecting value at character 41); write it as a "
        "YAML list or mapping in Pulumi.<stack>.yaml, or set items one by one: "
        "pulumi config set --path 'backline-access:subscriptions[0]' <value>",
    ),
    (
        "management group by display name",
        valid(managementGroups=["Contoso Production"]),
        "managementGroups[0]: 'Contoso Production' is not a valid management group id (1-90 letters, digits, '-', "
        "'_', '.', '(' or ')', not ending in '.'; the id, not the display name)\n"
        '    fix: az account management-group list --query "[].{id:name, displayName:displayName}" -o table',
    ),
    (
        "management group as a resource id",
        valid(managementGroups=["/providers/Microsoft.Management/managementGroups/platform"]),
        "managementGroups[0]: '/providers/Microsoft.Management/managementGroups/platform' is a resource id; write "
        "only the group's id (the last part of it)",
    ),
    (
        "management group listed twice",
        valid(managementGroups=["platform", "Platform"]),
        "managementGroups[1]: 'Platform' is listed twice (also at managementGroups[0]); remove one of them",
    ),
    (
        "flag as a word",
        valid(aksRequireAzureRbac="sometimes"),
        "aksRequireAzureRbac: 'sometimes' must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [(raw, exp) for _, raw, exp in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_each_bad_config_gets_one_clear_message(raw: dict[str, Any], expected: str) -> None:
    problems = problems_of(raw)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_all_problems_are_reported_at_once() -> None:
    raw = {
        "tenantId": "nope",
        "subscriptions": [SUB_A, SUB_A, "x"],
        "aks": [{"subscription": SUB_A, "clusters": [{"resourceGroup": "rg", "name": "-x"}]}],
        "extra": 1,
    }
    paths = sorted(problem.split(":")[0] for problem in problems_of(raw))
    assert paths == ["aks[0].clusters[0].name", "extra", "subscriptions[1]", "subscriptions[2]", "tenantId"]


def test_the_rendered_error_counts_problems_and_lists_each() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"subscriptions": ["x"]})
    text = str(error.value)
    assert text.startswith("Invalid backline-access stack config (2 problems):")
    assert text.splitlines() == [
        "Invalid backline-access stack config (2 problems):",
        "  - tenantId: is required",
        "    fix: az account show --query tenantId -o tsv",
        "  - subscriptions[0]: 'x' is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits)",
        '    fix: az account list --query "[].id" -o tsv',
    ]


def test_valid_config_is_normalised_to_lower_case_ids_and_canonical_clusters() -> None:
    config = parse_config(
        valid(
            tenantId=TENANT.upper(),
            subscriptions=[SUB_B, "AAAAAAAA-1111-1111-1111-111111111111"],
            aks=[
                {
                    "subscription": SUB_A,
                    "clusters": [
                        CLUSTER_ID.replace("rg-prod", "RG-Prod"),
                        {"resourceGroup": "rg", "name": "Aks2"},
                    ],
                }
            ],
        )
    )
    assert config.tenant_id == TENANT
    assert config.subscriptions == [SUB_B, "aaaaaaaa-1111-1111-1111-111111111111"]
    assert [c.resource_id for c in config.cluster_ids()] == [
        CLUSTER_ID,
        f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks2",
    ]
    assert config.service_principal.mode == "ensure"
    assert config.service_principal.delete_on_destroy is False
    assert config.aks_require_azure_rbac is False


def test_the_model_accepts_python_names_for_use_from_a_customer_program() -> None:
    config = AccessConfig(tenant_id=TENANT, subscriptions=[SUB_A])
    assert config.subscriptions == [SUB_A]


def test_management_groups_alone_are_something_to_grant() -> None:
    config = parse_config({"tenantId": TENANT, "managementGroups": ["platform", "Contoso-Prod_(eu).1"]})
    assert config.management_groups == ["platform", "Contoso-Prod_(eu).1"]
    assert config.subscriptions == [] and config.aks == []
