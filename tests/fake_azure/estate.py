"""The estate a fake Azure holds: tenant, subscriptions, management groups, clusters, service principals,
role assignments and the clients that may sign in. Loaded from JSON or built in a test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKLINE_APP_ID = "3fc75f55-e53f-4950-9127-665106cded58"
GROUP_SCOPE = "/providers/microsoft.management/managementgroups/"


@dataclass
class Cluster:
    subscription: str
    resource_group: str
    name: str
    azure_rbac: bool | None = True  # None: no aadProfile at all

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{self.name}"
        )

    def arm(self) -> dict[str, Any]:
        properties: dict[str, Any] = {"provisioningState": "Succeeded", "kubernetesVersion": "1.33.2"}
        if self.azure_rbac is not None:
            properties["aadProfile"] = {"managed": True, "enableAzureRBAC": self.azure_rbac}
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.ContainerService/ManagedClusters",
            "location": "westeurope",
            "properties": properties,
        }


@dataclass
class Assignment:
    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str = "ServicePrincipal"
    description: str | None = None
    condition: str | None = None
    visible_after_reads: int = 0  # propagation: hidden from the first N reads
    # ARM compares ids ignoring case and has answered ids spelled otherwise than properties.scope
    # (hashicorp/terraform-provider-azurerm#23487): the scope as this assignment's id spells it.
    id_scope: str | None = None

    @property
    def id(self) -> str:
        return f"{self.id_scope or self.scope}/providers/Microsoft.Authorization/roleAssignments/{self.name}"

    @property
    def role_guid(self) -> str:
        return self.role_definition_id.rsplit("/", 1)[-1].lower()

    def arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": self.role_definition_id,
                "principalId": self.principal_id,
                "principalType": self.principal_type,
                "scope": self.scope,
                "condition": self.condition,
                "conditionVersion": "2.0" if self.condition else None,
                "description": self.description,
                "createdOn": "2026-01-01T00:00:00.0000000Z",
                "updatedOn": "2026-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": "00000000-0000-0000-0000-000000000001",
                "delegatedManagedIdentityResourceId": None,
            },
        }


@dataclass
class RoleDefinition:
    """A role definition as ARM answers GET .../roleDefinitions/{guid} (api-version 2022-04-01)."""

    guid: str
    role_name: str
    actions: list[str]
    not_actions: list[str] = field(default_factory=list)
    data_actions: list[str] = field(default_factory=list)
    not_data_actions: list[str] = field(default_factory=list)
    custom: bool = False

    def arm(self, scope: str) -> dict[str, Any]:
        return {
            "id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{self.guid}",
            "name": self.guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": self.role_name,
                "type": "CustomRole" if self.custom else "BuiltInRole",
                "description": "",
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": self.actions,
                        "notActions": self.not_actions,
                        "dataActions": self.data_actions,
                        "notDataActions": self.not_data_actions,
                    }
                ],
            },
        }


# Built-in roles with the permissions Azure publishes (Reader and AKS RBAC Reader are checked against
# ../shared/reference/azure/builtin-roles in test_reference.py).
BUILT_IN_ROLES = {
    role.guid: role
    for role in (
        RoleDefinition("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", ["*/read"]),
        RoleDefinition(
            "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
            "Azure Kubernetes Service RBAC Reader",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Resources/subscriptions/operationresults/read",
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ],
            data_actions=[
                "Microsoft.ContainerService/managedClusters/apps/controllerrevisions/read",
                "Microsoft.ContainerService/managedClusters/pods/read",
            ],
        ),
        RoleDefinition(
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            "Contributor",
            ["*"],
            not_actions=[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
            ],
        ),
    )
}


@dataclass
class DirectoryCredential:
    """A password or certificate on a service principal, as Graph v1.0 answers passwordCredential and
    keyCredential: never the secret (secretText and key are null when read)."""

    key_id: str
    kind: str = "password"  # or "certificate"
    display_name: str = "added by hand"
    start: str = "2026-01-01T00:00:00Z"
    end: str = "2027-01-01T00:00:00Z"

    def graph(self) -> dict[str, Any]:
        common = {
            "displayName": self.display_name,
            "keyId": self.key_id,
            "startDateTime": self.start,
            "endDateTime": self.end,
        }
        if self.kind == "password":
            return {**common, "customKeyIdentifier": None, "hint": "Xy~", "secretText": None}
        return {**common, "customKeyIdentifier": "A1B2C3", "key": None, "type": "AsymmetricX509Cert", "usage": "Verify"}


@dataclass
class ApiPrincipal:
    """A resource API's service principal in the tenant, with the app roles (application permissions) it defines."""

    object_id: str
    display_name: str
    app_id: str
    app_roles: dict[str, str] = field(default_factory=dict)  # app role id -> value (the permission's name)

    def graph(self) -> dict[str, Any]:
        roles = [
            {"id": rid, "value": value, "displayName": value, "allowedMemberTypes": ["Application"], "isEnabled": True}
            for rid, value in self.app_roles.items()
        ]
        return {"id": self.object_id, "appId": self.app_id, "displayName": self.display_name, "appRoles": roles}


# Microsoft Graph's own service principal, with app role ids as Microsoft publishes them.
MICROSOFT_GRAPH = ApiPrincipal(
    "5b0e1d9a-0000-4000-8000-00000000a001",
    "Microsoft Graph",
    "00000003-0000-0000-c000-000000000000",
    {
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7": "Directory.ReadWrite.All",
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30": "Application.Read.All",
    },
)


@dataclass
class AppRoleGrant:
    """An appRoleAssignment: an application permission granted to a principal."""

    id: str
    principal_id: str
    resource: ApiPrincipal
    app_role_id: str

    def graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "appRoleId": self.app_role_id,
            "createdDateTime": "2026-01-01T00:00:00Z",
            "principalDisplayName": "Backline",
            "principalId": self.principal_id,
            "principalType": "ServicePrincipal",
            "resourceDisplayName": self.resource.display_name,
            "resourceId": self.resource.object_id,
        }


@dataclass
class DelegatedGrant:
    """An oauth2PermissionGrant: delegated scopes a client may use on behalf of users."""

    id: str
    client_id: str
    resource_id: str
    scope: str
    consent_type: str = "AllPrincipals"

    def graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clientId": self.client_id,
            "consentType": self.consent_type,
            "principalId": None,
            "resourceId": self.resource_id,
            "scope": self.scope,
        }


@dataclass
class Owner:
    id: str
    display_name: str
    user_principal_name: str | None = None

    def graph(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.user",
            "id": self.id,
            "displayName": self.display_name,
            "userPrincipalName": self.user_principal_name,
        }


@dataclass
class Estate:
    tenant: str
    subscriptions: list[str] = field(default_factory=list)
    management_groups: dict[str, list[str]] = field(default_factory=dict)  # group -> subscriptions and groups
    clusters: list[Cluster] = field(default_factory=list)
    service_principals: dict[str, str] = field(default_factory=dict)  # app id -> object id
    assignments: list[Assignment] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    federated_clients: list[str] = field(default_factory=list)  # client ids that may sign in with OIDC
    role_definitions: dict[str, RoleDefinition] = field(default_factory=lambda: dict(BUILT_IN_ROLES))
    # Microsoft Graph's side of a service principal, by its object id: credentials, owners, permissions.
    credentials: dict[str, list[DirectoryCredential]] = field(default_factory=dict)
    owners: dict[str, list[Owner]] = field(default_factory=dict)
    apis: list[ApiPrincipal] = field(default_factory=lambda: [MICROSOFT_GRAPH])
    app_role_grants: list[AppRoleGrant] = field(default_factory=list)
    delegated_grants: list[DelegatedGrant] = field(default_factory=list)

    def groups_above(self, scope: str) -> set[str]:
        """The lower-case scopes of every management group above a subscription's or a group's scope."""
        parents = {
            child.lower(): group.lower() for group, children in self.management_groups.items() for child in children
        }
        parts = scope.lower().strip("/").split("/")
        node = parts[1] if parts[0] == "subscriptions" else parts[3] if len(parts) > 3 else ""
        above: set[str] = set()
        while node in parents:
            node = parents[node]
            above.add(f"{GROUP_SCOPE}{node}")
        return above

    def contains(self, outer: str, inner: str) -> bool:
        """Whether lower-case scope `inner` is `outer` or below it (the root, "", contains everything)."""
        if outer in ("", inner) or inner.startswith(outer + "/"):
            return True
        return outer.startswith(GROUP_SCOPE) and outer in self.groups_above(inner)

    @classmethod
    def load(cls, path: Path) -> Estate:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            tenant=data["tenant"],
            subscriptions=data.get("subscriptions", []),
            management_groups=data.get("managementGroups", {}),
            clusters=[
                Cluster(c["subscription"], c["resourceGroup"], c["name"], c.get("azureRbac", True))
                for c in data.get("clusters", [])
            ],
            service_principals=data.get("servicePrincipals", {}),
            assignments=[
                Assignment(
                    a["name"],
                    a["scope"],
                    a["roleDefinitionId"],
                    a["principalId"],
                    a.get("principalType", "ServicePrincipal"),
                    a.get("description"),
                    a.get("condition"),
                )
                for a in data.get("roleAssignments", [])
            ],
            clients=data.get("clients", {}),
            federated_clients=data.get("federatedClients", []),
        )
