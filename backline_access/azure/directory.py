"""Microsoft Graph reads about one service principal: the principal with its credentials, what Entra ID has
granted it, and its owners. Metadata only: Graph never returns a secret's value once it was made.

Calls, on a tenant where Backline holds nothing in Entra ID beyond its sign-in: the principal and its credentials
in one (`$select=id,appId,passwordCredentials,keyCredentials`), its app role assignments, its delegated grants and
its owners, four in all. One GET more per distinct API it holds permissions in, to name them (an app role
assignment carries only the role's id; the resource's `appRoles` carry its name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .errors import AzureFailure, AzureReadError
from .model import DirectoryOwner, EntraHoldings, GrantedPermission, PrincipalCredential, ServicePrincipalRecord
from .transport import AzureHttp

GRAPH_API = "v1.0"
PRINCIPAL_FIELDS = "id,appId,passwordCredentials,keyCredentials"
RESOURCE_FIELDS = "id,displayName,appRoles"
OWNER_FIELDS = "id,displayName,userPrincipalName,appId"
# An app role assignment with this appRoleId grants the resource's default access, no app role.
DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
T = TypeVar("T")


def find_by_app(graph: AzureHttp, app_id: str) -> ServicePrincipalRecord | None:
    """The app's service principal in the tenant with its credentials, or None when there is none."""
    found = graph.get(
        f"/{GRAPH_API}/servicePrincipals", {"$filter": f"appId eq '{app_id}'", "$select": PRINCIPAL_FIELDS}
    )
    values = found.get("value", [])
    return principal_record(values[0]) if values else None


def read_by_id(graph: AzureHttp, object_id: str) -> ServicePrincipalRecord:
    return principal_record(graph.get(f"/{GRAPH_API}/servicePrincipals/{object_id}", {"$select": PRINCIPAL_FIELDS}))


def read_holdings(graph: AzureHttp, principal: ServicePrincipalRecord | AzureFailure, object_id: str) -> EntraHoldings:
    """Everything Entra ID holds for the principal; a part that cannot be read carries its failure."""
    credentials = principal if isinstance(principal, AzureFailure) else principal.credentials
    return EntraHoldings(
        credentials,
        _attempt(lambda: granted_permissions(graph, object_id)),
        _attempt(lambda: owners(graph, object_id)),
    )


def granted_permissions(graph: AzureHttp, object_id: str) -> list[GrantedPermission]:
    """Application permissions (app role assignments, named through their API's appRoles) and delegated ones
    (the scopes of every oauth2PermissionGrant whose client is the principal)."""
    assignments = list(graph.pages(f"/{GRAPH_API}/servicePrincipals/{object_id}/appRoleAssignments", {}))
    grants = list(graph.pages(f"/{GRAPH_API}/oauth2PermissionGrants", {"$filter": f"clientId eq '{object_id}'"}))
    apis = _apis(graph, {str(item.get("resourceId", "")) for item in (*assignments, *grants)})
    permissions = [_application(item, apis) for item in assignments]
    for grant in grants:
        api = apis.get(str(grant.get("resourceId", "")), {})
        name = str(api.get("displayName") or grant.get("resourceId", ""))
        for scope in str(grant.get("scope") or "").split():
            permissions.append(GrantedPermission("delegated", name, scope, str(grant["id"]), grant.get("consentType")))
    return permissions


def owners(graph: AzureHttp, object_id: str) -> list[DirectoryOwner]:
    items = graph.pages(f"/{GRAPH_API}/servicePrincipals/{object_id}/owners", {"$select": OWNER_FIELDS})
    return [
        DirectoryOwner(
            str(item.get("id", "")),
            str(item.get("userPrincipalName") or item.get("displayName") or item.get("appId") or ""),
            str(item.get("@odata.type", "")).removeprefix("#microsoft.graph."),
        )
        for item in items
    ]


def principal_record(item: dict[str, Any]) -> ServicePrincipalRecord:
    passwords = [_credential("password", c) for c in item.get("passwordCredentials") or []]
    keys = [_credential("certificate", c) for c in item.get("keyCredentials") or []]
    return ServicePrincipalRecord(str(item["id"]).lower(), str(item.get("appId", "")), (*passwords, *keys))


def _credential(kind: str, item: dict[str, Any]) -> PrincipalCredential:
    return PrincipalCredential(
        kind,
        str(item.get("keyId", "")),
        str(item.get("displayName") or ""),
        str(item.get("startDateTime") or ""),
        str(item.get("endDateTime") or ""),
    )


def _apis(graph: AzureHttp, resource_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Each resource API's service principal (name and appRoles); one that cannot be read is left out, so its
    permissions stay unnamed."""

    def read(resource_id: str) -> tuple[str, dict[str, Any] | None]:
        try:
            return resource_id, graph.get(f"/{GRAPH_API}/servicePrincipals/{resource_id}", {"$select": RESOURCE_FIELDS})
        except AzureReadError:
            return resource_id, None

    return {rid: api for rid, api in graph.map(read, sorted(r for r in resource_ids if r)) if api is not None}


def _application(item: dict[str, Any], apis: dict[str, dict[str, Any]]) -> GrantedPermission:
    api = apis.get(str(item.get("resourceId", "")))
    role_id = str(item.get("appRoleId", "")).lower()
    name: str | None = None
    if role_id == DEFAULT_ACCESS:
        name = "default access"
    elif api is not None:
        name = next(
            (str(r.get("value")) for r in api.get("appRoles") or [] if str(r.get("id")).lower() == role_id), None
        )
    shown = str(item.get("resourceDisplayName") or (api or {}).get("displayName") or item.get("resourceId", ""))
    return GrantedPermission("application", shown, name, str(item.get("id", "")))


def _attempt(read: Callable[[], T]) -> T | AzureFailure:
    try:
        return read()
    except AzureReadError as error:
        return error.failure
