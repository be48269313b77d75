"""The offline plan as people and review bots read it: built from what the program really registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import AccessConfig
from .offline import GET_CLIENT_CONFIG, GET_MANAGED_CLUSTER, GET_SERVICE_PRINCIPAL, OfflineRun
from .roles import AKS_RBAC_READER, BACKLINE_APP_ID, READER

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
            (_assignment(r.name, r.inputs) for r in run.of_type(ROLE_ASSIGNMENT)),
            key=lambda a: (a["role"] != READER.name, a["scope"]),
        ),
        "checks": _checks(config, run),
        "warnings": list(run.warnings),
        "outputs": run.outputs,
    }


def _assignment(resource_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    role_definition_id = str(inputs["roleDefinitionId"])
    return {
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
        action = "look up only; never created, changed or deleted"
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
    checks = []
    for call in run.invokes:
        if call.token == GET_CLIENT_CONFIG:
            what = f"tenant guard: the credentials belong to tenant {config.tenant_id}"
        elif call.token == GET_MANAGED_CLUSTER:
            what = (
                f"AKS preflight: cluster {call.args.get('resourceGroupName')}/{call.args.get('resourceName')} "
                "exists and has Azure RBAC for Kubernetes enabled"
            )
        elif call.token == GET_SERVICE_PRINCIPAL:
            what = f"service principal lookup: app {BACKLINE_APP_ID} in tenant {config.tenant_id}"
        else:
            what = call.token
        checks.append({"check": what, "status": NOT_CHECKED})
    return checks


def render_text(document: dict[str, Any]) -> str:
    lines = [
        "Offline plan (Pulumi mock engine: no credentials, no network, nothing changed)",
        f"Tenant:       {document['tenantId']}",
        f"Application:  {document['applicationId']} (Backline)",
        "",
        "Service principal:",
        f"  {document['servicePrincipal']['mode']}: {document['servicePrincipal']['action']}",
        f"  deleted on destroy: {'yes' if document['servicePrincipal']['deleteOnDestroy'] else 'no'}",
        "",
        f"Role assignments ({len(document['assignments'])}), principal type ServicePrincipal:",
    ]
    for item in document["assignments"]:
        lines += [
            f"  + {item['role']}",
            f"      scope:              {item['scope']}",
            f"      roleDefinitionId:   {item['roleDefinitionId']}",
            f"      assignment name:    {item['name']}",
        ]
    lines += ["", "Checks against Azure:"]
    lines += [f"  ? {c['check']}: {c['status']}" for c in document["checks"]] or ["  (none)"]
    lines += _section("Warnings:", document["warnings"], "  ! ")
    lines += ["", "Outputs:", *_outputs(document["outputs"])]
    return "\n".join(lines)


def _section(title: str, items: Sequence[str], bullet: str) -> list[str]:
    if not items:
        return []
    return ["", title] + [bullet + item.replace("\n", "\n" + " " * len(bullet)) for item in items]


def _outputs(outputs: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in outputs.items():
        if isinstance(value, dict):
            lines.append(f"  {key}:")
            lines += [f"    {k}: {v}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"  {key}:")
            lines += [f"    {v}" for v in value]
        else:
            lines.append(f"  {key}: {value}")
    return lines
