"""Least privilege for backline-access, as CrossGuard policies: importable without starting a pack.

The pack keeps its own copy of the role GUIDs and the app id, on purpose: it checks the program, so it must not
share the program's constants (a test compares the two). Role definitions are compared by their trailing GUID,
lower-cased, never by name. A value unknown during preview makes pulumi-policy report the policy as not
checkable (an advisory "can't run policy ... during preview"), never as passing: the validators read values
plainly and let `UnknownValueError` through.

How it fits with `backline-access verify`: this pack proves what the stack declares, before anything is granted;
verify's "least privilege" checks prove what Azure and Entra ID hold for Backline's principal afterwards, whoever
made it (a role given by hand, a credential added to the service principal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "backline-access-least-privilege"
BACKLINE_APP_ID = "3fc75f55-e53f-4950-9127-665106cded58"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
ROLE_NAMES = {READER: "Reader", AKS_RBAC_READER: "Azure Kubernetes Service RBAC Reader"}

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SUBSCRIPTION = re.compile(rf"^/subscriptions/{_GUID}$", re.IGNORECASE)
_MANAGEMENT_GROUP = re.compile(r"^/providers/Microsoft\.Management/managementGroups/[^/]+$", re.IGNORECASE)
_CLUSTER = re.compile(
    rf"^/subscriptions/{_GUID}/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters/[^/]+$",
    re.IGNORECASE,
)
_RESOURCE_GROUP = re.compile(rf"^/subscriptions/{_GUID}/resourceGroups/[^/]+$", re.IGNORECASE)
# Roles at the scopes they are meant for: Reader over subscriptions and management groups (a cluster is
# narrower still); AKS RBAC Reader on a cluster, or above clusters (a subscription, a resource group, a management
# group: every cluster below inherits it), and there only where the config asks (aks-rbac-reader-above-clusters).
_ALLOWED_SCOPES = {
    READER: (_SUBSCRIPTION, _MANAGEMENT_GROUP, _CLUSTER),
    AKS_RBAC_READER: (_CLUSTER, _SUBSCRIPTION, _RESOURCE_GROUP, _MANAGEMENT_GROUP),
}
COMPONENT = "backline:index:BacklineAccess"
# The component's registered output that lists where its config asks for AKS RBAC Reader above clusters.
AKS_SCOPES_ASKED = "aksScopesAsked"

# What the stack must never create: credentials of any kind, role definitions and applications.
FORBIDDEN_TYPES = {
    "azuread:index/applicationPassword:ApplicationPassword": "an application password",
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword": "a service principal password",
    "azuread:index/applicationCertificate:ApplicationCertificate": "an application certificate",
    "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate": "a service principal certificate",
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (
        "a federated identity credential"
    ),
    "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate": (
        "a token signing certificate"
    ),
    "azuread:index/application:Application": "an application",
    "azuread:index/applicationRegistration:ApplicationRegistration": "an application",
    "azure-native:managedidentity:FederatedIdentityCredential": "a federated identity credential",
    "azure-native:authorization:RoleDefinition": "a role definition",
}


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def check_role_assignment(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE_ASSIGNMENT:
        return
    props = args.props
    guid = role_guid(str(props["roleDefinitionId"]))
    if guid not in ROLE_NAMES:
        report(
            f"role definition {props['roleDefinitionId']} is neither Reader ({READER}) nor Azure Kubernetes Service "
            f"RBAC Reader ({AKS_RBAC_READER}); Backline gets read-only access only",
            None,
        )
        return
    principal_type = props.get("principalType")
    if principal_type != "ServicePrincipal":
        report(f"principalType is {principal_type!r}; Backline's assignments are for its ServicePrincipal", None)
    scope = str(props["scope"])
    if not any(pattern.match(scope) for pattern in _ALLOWED_SCOPES[guid]):
        where = (
            "an AKS managed cluster, or a subscription, resource group or management group the config names"
            if guid == AKS_RBAC_READER
            else "a subscription, management group or cluster"
        )
        report(f"{ROLE_NAMES[guid]} at scope {scope}: this role may only be assigned at {where}", None)


def check_aks_above_clusters(args: StackValidationArgs, report: ReportViolation) -> None:
    """AKS RBAC Reader above a cluster reaches every cluster below it, present and future: allowed only at a scope
    a BacklineAccess component says its config asks for (its registered output `aksScopesAsked`, read off the
    stack config's aks entries, not off the plan that made the grants)."""
    asked = {
        str(scope).rstrip("/").lower()
        for r in args.resources
        if r.resource_type == COMPONENT
        for scope in (r.props.get(AKS_SCOPES_ASKED) or [])
    }
    for r in args.resources:
        if r.resource_type != ROLE_ASSIGNMENT or role_guid(str(r.props["roleDefinitionId"])) != AKS_RBAC_READER:
            continue
        scope = str(r.props["scope"])
        if _CLUSTER.match(scope) or scope.rstrip("/").lower() in asked:
            continue
        report(
            f"role assignment {r.name} gives {ROLE_NAMES[AKS_RBAC_READER]} at {scope}, above clusters (every cluster "
            "below it, present and future), but no BacklineAccess config asks for it there (grantAt: subscription, "
            "resourceGroups or managementGroup in backline-access:aks)",
            r.urn,
        )


def check_service_principal(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SERVICE_PRINCIPAL and str(args.props["clientId"]).lower() != BACKLINE_APP_ID:
        report(f"a service principal for app {args.props['clientId']}; only Backline's ({BACKLINE_APP_ID})", None)


def check_forbidden_types(args: ResourceValidationArgs, report: ReportViolation) -> None:
    what = FORBIDDEN_TYPES.get(args.resource_type)
    if what is not None:
        report(f"the stack creates {what} ({args.resource_type}); backline-access never creates credentials", None)


def check_principal_is_backlines(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every role assignment goes to Backline's service principal: the one the stack declares, or the object id
    in the policy config (`servicePrincipalObjectId`, for stacks that set `servicePrincipal.objectId`)."""
    principals = [
        r.props["objectId"]
        for r in args.resources
        if r.resource_type == SERVICE_PRINCIPAL and str(r.props.get("clientId", "")).lower() == BACKLINE_APP_ID
    ]
    configured = args.get_config().get("servicePrincipalObjectId")
    expected = {str(p).lower() for p in principals} | ({str(configured).lower()} if configured else set())
    assignments = [r for r in args.resources if r.resource_type == ROLE_ASSIGNMENT]
    if not assignments:
        return
    if not expected:
        args.not_applicable(
            "the stack declares no service principal of Backline's app: set servicePrincipalObjectId in the policy "
            "config to check whom the role assignments go to"
        )
    for assignment in assignments:
        principal = str(assignment.props["principalId"]).lower()
        if principal not in expected:
            report(
                f"role assignment {assignment.name} goes to principal {principal}, not to Backline's service "
                f"principal ({', '.join(sorted(expected))})",
                assignment.urn,
            )


def _config_schema() -> PolicyConfigSchema:
    properties: Mapping[str, Any] = {"servicePrincipalObjectId": {"type": "string"}}
    return PolicyConfigSchema(properties=properties)


POLICIES = [
    ResourceValidationPolicy(
        name="role-assignments-read-only",
        description="Role assignments use only Reader and AKS RBAC Reader (by GUID), for a ServicePrincipal, at a "
        "subscription, management group or AKS cluster scope (AKS RBAC Reader also at a resource group).",
        validate=check_role_assignment,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="only-backlines-service-principal",
        description="The only service principal the stack declares is that of Backline's app.",
        validate=check_service_principal,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-credentials-roles-or-applications",
        description="The stack creates no passwords, certificates, federated credentials, role definitions or "
        "applications.",
        validate=check_forbidden_types,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="aks-rbac-reader-above-clusters-only-where-asked",
        description="AKS RBAC Reader above a cluster (a subscription, resource group or management group) only where "
        "the stack config asks for it.",
        validate=check_aks_above_clusters,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="grants-go-to-backline",
        description="Every role assignment goes to Backline's service principal.",
        validate=check_principal_is_backlines,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_config_schema(),
    ),
]
