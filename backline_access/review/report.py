"""The offline plan as people and review bots read it: built from what the program really registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import AKS_RBAC_READER, BACKLINE_APP_ID, READER, AccessConfig, management_group_of
from .offline import GET_CLIENT_CONFIG, GET_SERVICE_PRINCIPAL, PLACEHOLDER_OBJECT_ID, OfflineRun

REPORT_VERSION = 1
NOT_CHECKED = "not checked offline"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
_ROLE_NAMES = {role.guid: role.name for role in (READER, AKS_RBAC_READER)}


def plan_document(config: AccessConfig, run: OfflineRun) -> dict[str, Any]:
    """The stable JSON interface of `backline-access plan --format json` (see README)."""
    return {
        "version": REPORT_VERSION,
        "tenantId": config.tenant_id,
        "applicationId": BACKLINE_APP_ID,
        "servicePrincipal": _service_principal(config, run),
        "assignments": sorted(
            (_assignment(r.name, r.inputs, r.import_id) for r in run.of_type(ROLE_ASSIGNMENT)),
            key=lambda a: (a["role"] != READER.name, a["scope"]),
        ),
        "checks": _checks(config, run),
        "warnings": list(run.warnings),
        "outputs": run.outputs,
    }


def _assignment(resource_name: str, inputs: dict[str, Any], import_id: str) -> dict[str, Any]:
    role_definition_id = str(inputs["roleDefinitionId"])
    return {
        # adopt: an equivalent assignment exists and is imported (importId) instead of created
        "action": "adopt" if import_id else "create",
        "importId": import_id or None,
        "role": _ROLE_NAMES.get(role_definition_id.rsplit("/", 1)[-1], "UNKNOWN ROLE"),
        "roleDefinitionId": role_definition_id,
        "scope": inputs["scope"],
        "principalType": inputs["principalType"],
        "name": inputs["roleAssignmentName"],
        "resourceName": resource_name,
    }


def _service_principal(config: AccessConfig, run: OfflineRun) -> dict[str, Any]:
    settings = config.service_principal
    if settings.object_id:
        action = "use the given objectId (no Microsoft Graph call)"
    elif settings.mode == "existing":
        action = "look up only; imported into the stack, never created, changed or deleted"
    else:
        action = "create if missing, adopt unchanged if present"
    managed = bool(run.of_type(SERVICE_PRINCIPAL))
    return {
        "mode": "objectId" if settings.object_id else settings.mode,
        "action": action,
        "objectId": settings.object_id,
        "managedByStack": managed,
        "deleteOnDestroy": settings.delete_on_destroy,
    }


def _checks(config: AccessConfig, run: OfflineRun) -> list[dict[str, str]]:
    """Every question the program asked of Azure, in the order a real run asks them."""
    asked = [_invoke_question(config, call.token) for call in run.invokes]
    guard = [what for what in asked if what.startswith("tenant guard")]
    others = [what for what in asked if not what.startswith("tenant guard")]
    return [{"check": what, "status": NOT_CHECKED} for what in [*guard, *run.reads, *others]]


def _invoke_question(config: AccessConfig, token: str) -> str:
    if token == GET_CLIENT_CONFIG:
        return f"tenant guard: the credentials belong to tenant {config.tenant_id}"
    if token == GET_SERVICE_PRINCIPAL:
        return f"service principal lookup: app {BACKLINE_APP_ID} in tenant {config.tenant_id}"
    return token


_SHORT_ROLE_NAMES = {READER.name: "Reader", AKS_RBAC_READER.name: "AKS RBAC Reader"}
# Outputs that repeat what the grant table already shows.
_SHOWN_IN_TABLE = ("readerAssignments", "aksAssignments", "managementGroupAssignments")


def render_text(document: dict[str, Any]) -> str:
    principal = document["servicePrincipal"]
    kept = "deleted on destroy" if principal["deleteOnDestroy"] else "kept on destroy"
    assignments = document["assignments"]
    lines = [
        "Offline plan (Pulumi mock engine: no credentials, no network, nothing changed)",
        "",
        f"Tenant {document['tenantId']}, Backline's application {document['applicationId']}",
        f"Service principal: {principal['mode']}: {principal['action']} ({kept})",
        "",
        f"{len(assignments)} role assignment(s) for Backline's service principal (principal type ServicePrincipal):",
        *_per_scope(assignments),
        "",
        *_grant_table(assignments),
        "",
        "Role definitions: "
        + ", ".join(f"{_SHORT_ROLE_NAMES[r.name]} {r.guid}" for r in (READER, AKS_RBAC_READER))
        + " (built-in, as /subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<guid>; at a "
        "management group /providers/Microsoft.Authorization/roleDefinitions/<guid>)",
    ]
    lines += _section(
        "Not checked offline (pulumi preview checks these against Azure):", _checks_text(document), "  ? "
    )
    lines += _section("Warnings:", document["warnings"], "  ! ")
    groups = any(management_group_of(str(a["scope"])) for a in assignments)
    lines += ["", "Outputs after pulumi up:", *_outputs(document["outputs"], groups)]
    return "\n".join(lines)


def _per_scope(assignments: Sequence[dict[str, Any]]) -> list[str]:
    groups = [group for group in (management_group_of(str(a["scope"])) for a in assignments) if group is not None]
    lines = [
        f"  management group {group}: Reader (every subscription below it, present and future)" for group in groups
    ]
    subscription_wide = [a for a in assignments if management_group_of(str(a["scope"])) is None]
    return lines + _per_subscription(subscription_wide)


def _per_subscription(assignments: Sequence[dict[str, Any]]) -> list[str]:
    readers: set[str] = set()
    clusters: dict[str, int] = {}
    for item in assignments:
        subscription = str(item["scope"]).split("/")[2]
        if item["role"] == READER.name:
            readers.add(subscription)
        else:
            clusters[subscription] = clusters.get(subscription, 0) + 1
    lines = []
    for subscription in sorted(readers | set(clusters)):
        parts = ["Reader"] if subscription in readers else []
        if subscription in clusters:
            count = clusters[subscription]
            parts.append(f"AKS RBAC Reader on {count} cluster{'s' if count != 1 else ''}")
        lines.append(f"  subscription {subscription}: {', '.join(parts)}")
    return lines


def _grant_table(assignments: Sequence[dict[str, Any]]) -> list[str]:
    rows = [("ROLE", "SCOPE", "ASSIGNMENT NAME", "ACTION")]
    rows += [(_SHORT_ROLE_NAMES.get(a["role"], a["role"]), a["scope"], a["name"], a["action"]) for a in assignments]
    role_width = max(len(row[0]) for row in rows)
    scope_width = max(len(row[1]) for row in rows)
    name_width = max(len(row[2]) for row in rows)
    return [
        f"  {role:<{role_width}}  {scope:<{scope_width}}  {name:<{name_width}}  {action}".rstrip()
        for role, scope, name, action in rows
    ]


def _checks_text(document: dict[str, Any]) -> list[str]:
    return [check["check"] for check in document["checks"] if check["status"] == NOT_CHECKED]


def _section(title: str, items: Sequence[str], bullet: str) -> list[str]:
    if not items:
        return []
    return ["", title] + [bullet + item.replace("\n", "\n" + " " * len(bullet)) for item in items]


def _outputs(outputs: dict[str, Any], groups: bool) -> list[str]:
    lines = []
    for key, value in outputs.items():
        if key == "subscriptionIds" and groups:
            below = "every subscription below the management groups (resolved at deploy time)"
            lines.append(f"  {key}: {value}, and {below}" if value else f"  {key}: {below}")
        elif key in _SHOWN_IN_TABLE:
            lines.append(f"  {key}: {len(value)} assignment id(s), one per grant above")
        elif key == "verificationCommands" and any(PLACEHOLDER_OBJECT_ID in command for command in value):
            lines.append(
                f"  {key}: {len(value)} az commands, runnable once the service principal's object id is known "
                "(after pulumi up: pulumi stack output verificationCommands)"
            )
        elif isinstance(value, list):
            lines.append(f"  {key}:")
            lines += [f"    {v}" for v in value]
        elif value == PLACEHOLDER_OBJECT_ID:
            lines.append(f"  {key}: known after pulumi up")
        else:
            lines.append(f"  {key}: {value}")
    return lines
