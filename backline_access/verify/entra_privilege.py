"""The Entra ID half of least privilege: what the customer's tenant holds for Backline's service principal beyond
its Azure roles. A credential on it (whoever holds one signs in as Backline, outside Backline's control) fails;
a permission whose name is not read-only fails; an owner (who can add credentials) warns. What Graph does not
answer is unknown, naming the permission the verifier needs, never pass.

Federated identity credentials are not read: Graph keeps them on the application, and Backline's application lives
in Backline's tenant, not the customer's (`applications/{id}/federatedIdentityCredentials`; a service principal
has none).
"""

from __future__ import annotations

import re

from ..azure import AzureFailure, DirectoryOwner, EntraHoldings, GrantedPermission, PrincipalCredential
from ..config import Cloud
from .least_privilege import CHECK
from .model import Check

GRAPH_PERMISSION = "the identity that verifies needs Application.Read.All (or Directory.Read.All) in Microsoft Graph"
NOT_READ_IN_PULUMI = (
    "not read by pulumi up: the azure-native provider's token is for Resource Manager only, not Microsoft Graph"
)
# Delegated OpenID Connect scopes: they let an app sign a user in, and change nothing.
_SIGN_IN_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
# Words in a permission's name that mean more than reading (Graph: Directory.ReadWrite.All, Mail.Send,
# RoleManagement.ReadWrite.Directory, Sites.FullControl.All, ...). A name without "Read" is not proven read-only.
_NOT_READ = re.compile(r"write|manage|fullcontrol|send|create|delete|update|invite|import|export|migrate|action", re.I)


def entra_checks(holdings: EntraHoldings | None, object_id: str, cloud: Cloud) -> list[Check]:
    """Credentials, permissions and owners of the principal in this tenant, each a pass or its findings."""
    scope = f"service principal {object_id}"
    if holdings is None:
        return [Check(CHECK, f"{scope} in Entra ID", "unknown", NOT_READ_IN_PULUMI, "backline-access verify reads it")]
    az = cloud.az_prefix()
    graph = f"{cloud.graph}/v1.0"
    return [
        *_credential_checks(holdings.credentials, object_id, f"{scope}: credentials", az),
        *_permission_checks(holdings.permissions, object_id, f"{scope}: permissions", az, graph),
        *_owner_checks(holdings.owners, object_id, f"{scope}: owners", az, graph),
    ]


def read_only(permission: str) -> bool:
    """Whether an Entra permission's name says it only reads (`Directory.Read.All`, `User.ReadBasic.All`)."""
    if permission in _SIGN_IN_SCOPES:
        return True
    operation = permission.split(".")[1:]  # Resource.Operation[.Constraint]: the resource's name says nothing
    return any(part.lower().startswith("read") for part in operation) and not any(
        _NOT_READ.search(p) for p in operation
    )


def _unread(scope: str, what: str, failure: AzureFailure) -> Check:
    return Check(
        CHECK, scope, "unknown", f"Microsoft Graph did not answer {what}: {failure.describe()}", GRAPH_PERMISSION
    )


def _credential_checks(
    credentials: tuple[PrincipalCredential, ...] | AzureFailure, object_id: str, scope: str, az: str
) -> list[Check]:
    if isinstance(credentials, AzureFailure):
        return [_unread(scope, "with the service principal's credentials", credentials)]
    if not credentials:
        return [Check(CHECK, scope, "pass", "no password or certificate on Backline's service principal here")]
    return [
        Check(
            CHECK,
            scope,
            "fail",
            f"a {c.kind} on Backline's service principal in this tenant (key id {c.key_id}"
            + (f", named '{c.display_name}'" if c.display_name else "")
            + f", valid {c.start or '?'} to {c.end or '?'}): whoever holds it signs in as Backline, with Backline's "
            "access, outside Backline's control",
            f"{az}az ad sp credential delete --id {object_id} --key-id {c.key_id}"
            + (" --cert" if c.kind == "certificate" else ""),
        )
        for c in credentials
    ]


def _permission_checks(
    permissions: list[GrantedPermission] | AzureFailure, object_id: str, scope: str, az: str, graph: str
) -> list[Check]:
    if isinstance(permissions, AzureFailure):
        return [_unread(scope, "with the app role assignments and delegated grants", permissions)]
    checks = [_permission_check(p, object_id, scope, az, graph) for p in permissions]
    problems = [check for check in checks if check.status != "pass"]
    if problems:
        return problems
    listed = "; ".join(f"{p.kind} {p.name} in {p.api}" for p in permissions) or "none"
    return [Check(CHECK, scope, "pass", f"application and delegated permissions in Entra ID: {listed}")]


def _permission_check(permission: GrantedPermission, object_id: str, scope: str, az: str, graph: str) -> Check:
    if permission.kind == "application":
        url = f"{graph}/servicePrincipals/{object_id}/appRoleAssignments/{permission.grant_id}"
    else:
        url = f"{graph}/oauth2PermissionGrants/{permission.grant_id}"
    remove = f"{az}az rest --method DELETE --url {url}"
    if permission.name is None:
        return Check(
            CHECK,
            scope,
            "unknown",
            f"an application permission in {permission.api} (assignment {permission.grant_id}) whose name its API "
            "does not say, so whether it only reads is not known",
            GRAPH_PERMISSION,
        )
    if read_only(permission.name) or permission.name == "default access":
        return Check(CHECK, scope, "pass", f"{permission.kind} {permission.name} in {permission.api}")
    consent = " for every user (admin consent)" if permission.consent == "AllPrincipals" else ""
    return Check(
        CHECK,
        scope,
        "fail",
        f"{permission.kind} permission {permission.name} in {permission.api}{consent} allows more than reading",
        remove
        + (
            " (removes the whole grant; re-grant the read-only scopes if they are wanted)"
            if permission.kind == "delegated"
            else ""
        ),
    )


def _owner_checks(
    owners: list[DirectoryOwner] | AzureFailure, object_id: str, scope: str, az: str, graph: str
) -> list[Check]:
    if isinstance(owners, AzureFailure):
        return [_unread(scope, "with the service principal's owners", owners)]
    if not owners:
        return [Check(CHECK, scope, "pass", "no owners of Backline's service principal here")]
    return [
        Check(
            CHECK,
            scope,
            "warn",
            f"{owner.kind or 'directory object'} {owner.name or owner.id} (object id {owner.id}) owns Backline's "
            "service principal, and so can add credentials to it",
            f"if it is not wanted: {az}az rest --method DELETE --url {graph}/servicePrincipals/{object_id}/owners/"
            f"{owner.id}/$ref",
        )
        for owner in owners
    ]
