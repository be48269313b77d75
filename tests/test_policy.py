"""The least-privilege policy pack, its validators called directly (constructing a PolicyPack starts serving):
every plan the test configs produce passes, and each crafted violation fails with a clear message."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from conftest import REPO, SP_OBJECT_ID, SUB_A, SUB_B, TENANT, Estate
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from backline_access.config import roles
from backline_access.review.offline import OfflineRun

sys.path.insert(0, str(REPO / "policy"))
import least_privilege

RunStack = Callable[..., OfflineRun]
RESOURCE_POLICIES = [p for p in least_privilege.POLICIES if isinstance(p, ResourceValidationPolicy)]
STACK_POLICIES = [p for p in least_privilege.POLICIES if isinstance(p, StackValidationPolicy)]
CLUSTER = f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
READER_ID = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{roles.READER.guid}"
AKS_READER_ID = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{roles.AKS_RBAC_READER.guid}"

CONFIGS = {
    "subscriptions and clusters": f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:aks:
    - subscription: {SUB_A}
      clusters: [{{resourceGroup: rg, name: aks}}, {CLUSTER.replace("/aks", "/aks2")}]
""",
    "objectId": f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_B}]
  backline-access:servicePrincipal: {{objectId: {SP_OBJECT_ID}}}
""",
    "existing, delete on destroy off": f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:aks:
    - subscription: {SUB_A}
      clusters: [{{resourceGroup: rg, name: aks}}]
  backline-access:servicePrincipal: {{mode: existing}}
""",
    "management groups": f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}]
  backline-access:managementGroups: [platform, Contoso-Prod]
""",
    "AKS RBAC Reader above clusters": f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: [{SUB_A}, {SUB_B}]
  backline-access:managementGroups: [platform]
  backline-access:aks:
    - {{subscription: {SUB_A}, all: true, grantAt: subscription}}
    - {{subscription: {SUB_B}, resourceGroups: [rg-prod, rg-dev]}}
    - {{managementGroup: platform}}
""",
}


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def violations_of(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(dict(props)), "urn", "name", options(), None)
    for policy in RESOURCE_POLICIES:

        def report(message: str, _urn: str | None, name: str = policy.name) -> None:
            found.append(f"{name}: {message}")

        policy.validate(args, report)
    return found


def stack_violations(
    resources: list[tuple[str, str, Mapping[str, Any]]], config: Mapping[str, Any] | None = None
) -> list[str]:
    found: list[str] = []
    policy_resources = [
        PolicyResource(type_, dict(props), f"urn:{name}", name, options(), None, None, [], {})
        for type_, name, props in resources
    ]
    for policy in STACK_POLICIES:
        policy.validate(StackValidationArgs(policy_resources, config), lambda message, _urn: found.append(message))
    return found


def assignment(**overrides: Any) -> dict[str, Any]:
    return {
        "principalId": SP_OBJECT_ID,
        "principalType": "ServicePrincipal",
        "roleDefinitionId": READER_ID,
        "scope": f"/subscriptions/{SUB_A}",
        "roleAssignmentName": "f40834e3-2d96-5052-a205-767dc17e41fd",
        **overrides,
    }


def test_the_pack_keeps_its_own_copy_of_the_programs_constants() -> None:
    assert least_privilege.BACKLINE_APP_ID == roles.BACKLINE_APP_ID
    assert roles.READER.guid == least_privilege.READER
    assert roles.AKS_RBAC_READER.guid == least_privilege.AKS_RBAC_READER


@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_every_plan_of_the_test_configs_passes(config: str, run_stack: RunStack) -> None:
    run = run_stack(config, Estate(service_principal=SP_OBJECT_ID if "existing" in config else None))
    resources = [r for r in run.registrations if not r.type.startswith("pulumi:providers:")]
    for resource in resources:
        assert violations_of(resource.type, resource.inputs) == [], resource.name
    declared = [
        (
            r.type,
            r.name,
            {**r.inputs, "objectId": SP_OBJECT_ID}
            if r.type == least_privilege.SERVICE_PRINCIPAL
            else run.registered_value(r.urn)  # a component: the engine holds its registered outputs
            if r.type == least_privilege.COMPONENT
            else r.inputs,
        )
        for r in resources
    ]
    config_of_pack = (
        {}
        if any(t == least_privilege.SERVICE_PRINCIPAL for t, _, _ in declared)
        else {"servicePrincipalObjectId": SP_OBJECT_ID}
    )
    assert stack_violations(declared, config_of_pack) == []


VIOLATIONS = [
    (
        "another role GUID (Contributor)",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(roleDefinitionId=READER_ID.replace(roles.READER.guid, "b24988ac-6180-42a0-ab88-20f7382dd24c")),
        "role-assignments-read-only: role definition /subscriptions/",
    ),
    (
        "a custom role named Reader",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(roleDefinitionId=f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/Reader"),
        "role-assignments-read-only: role definition /subscriptions/",
    ),
    (
        "AKS RBAC Writer",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(
            roleDefinitionId=AKS_READER_ID.replace(roles.AKS_RBAC_READER.guid, "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"),
            scope=CLUSTER,
        ),
        "is neither Reader",
    ),
    (
        "a User principal",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(principalType="User"),
        "role-assignments-read-only: principalType is 'User'; Backline's assignments are for its ServicePrincipal",
    ),
    (
        "a resource group scope",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(scope=f"/subscriptions/{SUB_A}/resourceGroups/rg"),
        f"role-assignments-read-only: Reader at scope /subscriptions/{SUB_A}/resourceGroups/rg: this role may only "
        "be assigned at a subscription, management group or cluster",
    ),
    (
        "AKS RBAC Reader on a storage account",
        least_privilege.ROLE_ASSIGNMENT,
        assignment(
            roleDefinitionId=AKS_READER_ID,
            scope=f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s",
        ),
        "this role may only be assigned at an AKS managed cluster, or a subscription, resource group or management "
        "group the config names",
    ),
    (
        "a service principal password",
        "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
        {"servicePrincipalId": f"/servicePrincipals/{SP_OBJECT_ID}"},
        "no-credentials-roles-or-applications: the stack creates a service principal password",
    ),
    (
        "a federated identity credential",
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
        {},
        "no-credentials-roles-or-applications: the stack creates a federated identity credential",
    ),
    (
        "a role definition",
        "azure-native:authorization:RoleDefinition",
        {},
        "no-credentials-roles-or-applications: the stack creates a role definition",
    ),
    (
        "another app's service principal",
        least_privilege.SERVICE_PRINCIPAL,
        {"clientId": "00000003-0000-0000-c000-000000000000"},
        "only-backlines-service-principal: a service principal for app 00000003-0000-0000-c000-000000000000",
    ),
]


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_each_crafted_violation_fails_clearly(resource_type: str, props: Mapping[str, Any], expected: str) -> None:
    found = violations_of(resource_type, props)
    assert len(found) == 1, found
    assert expected in found[0]


def test_a_grant_to_someone_else_fails_the_stack_policy() -> None:
    backline = (least_privilege.SERVICE_PRINCIPAL, "sp", {"clientId": roles.BACKLINE_APP_ID, "objectId": SP_OBJECT_ID})
    stranger = (least_privilege.ROLE_ASSIGNMENT, "ra", assignment(principalId="12121212-1212-4212-8212-121212121212"))
    [message] = stack_violations([backline, stranger])
    assert message.startswith("role assignment ra goes to principal 12121212-1212-4212-8212-121212121212, not to")


def test_a_value_unknown_in_preview_is_not_checkable_never_passing() -> None:
    unknown = assignment(roleDefinitionId=UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations_of(least_privilege.ROLE_ASSIGNMENT, unknown)


def test_without_a_principal_to_compare_the_stack_policy_says_not_applicable_rather_than_passing() -> None:
    from pulumi_policy.policy import _NotApplicableError

    with pytest.raises(_NotApplicableError) as raised:
        stack_violations([(least_privilege.ROLE_ASSIGNMENT, "ra", assignment())])
    assert "set servicePrincipalObjectId in the policy config" in (raised.value.reason or "")


def test_aks_rbac_reader_above_clusters_passes_only_where_a_component_says_its_config_asks() -> None:
    backline = (least_privilege.SERVICE_PRINCIPAL, "sp", {"clientId": roles.BACKLINE_APP_ID, "objectId": SP_OBJECT_ID})
    whole = (least_privilege.ROLE_ASSIGNMENT, "whole", assignment(roleDefinitionId=AKS_READER_ID))
    group = f"/subscriptions/{SUB_A}/resourceGroups/rg-prod"
    by_group = (least_privilege.ROLE_ASSIGNMENT, "rg", assignment(roleDefinitionId=AKS_READER_ID, scope=group))
    [message] = stack_violations([backline, whole])
    assert message.startswith(
        f"role assignment whole gives Azure Kubernetes Service RBAC Reader at /subscriptions/{SUB_A}"
    )
    assert "no BacklineAccess config asks for it there" in message
    component = (least_privilege.COMPONENT, "backline", {"aksScopesAsked": [f"/subscriptions/{SUB_A}"]})
    assert stack_violations([backline, component, whole]) == []
    [message] = stack_violations([backline, component, whole, by_group])  # asked at the subscription only
    assert message.startswith("role assignment rg gives")
    on_cluster = (least_privilege.ROLE_ASSIGNMENT, "c", assignment(roleDefinitionId=AKS_READER_ID, scope=CLUSTER))
    assert stack_violations([backline, on_cluster]) == []  # one cluster needs no config's word
