"""The offline plan as people and review bots read it: built from what the program really registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import (
    AKS_RBAC_READER,
    BACKLINE_APP_ID,
    READER,
    AccessConfig,
    management_group_of,
    parse_cluster_resource_id,
)
from ..plan import reach_of
from ..verify import wrap_words
from .offline import GET_CLIENT_CONFIG, GET_SERVICE_PRINCIPAL, PLACEHOLDER_OBJECT_ID, OfflineRun

REPORT_VERSION = 1
NOT_CHECKED = "not checked offline"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
_ROLE_NAMES = {role.guid: role.name for role in (READER, AKS_RBAC_READER)}


def plan_document(config: AccessConfig, run: OfflineRun, planned: str | None = None) -> dict[str, Any]:
    """The stable JSON interface of `backline-access plan --format json` (see README). `planned`: the stack (or
    stack file) the plan is of."""
    return {
        "version": REPORT_VERSION,
        "stack": planned,
        "tenantId": config.tenant_id,
        "applicationId": BACKLINE_APP_ID,
        "servicePrincipal": _service_principal(config, run),
        "assignments": sorted(
            (_assignment(r.name, r.inputs, r.import_id) for r in run.of_type(ROLE_ASSIGNMENT)),
            key=lambda a: (a["role"] != READER.name, a["scope"]),
        ),
        "everyCluster": every_cluster(config),
        "checks": _checks(config, run),
        "warnings": list(run.warnings),
        "outputs": run.outputs,
    }


def every_cluster(config: AccessConfig) -> list[dict[str, Any]]:
    """The subscriptions whose clusters (all: true) are found at deploy time, and the clusters left out."""
    return [
        {
            "subscription": selection.subscription,
            "role": AKS_RBAC_READER.name,
            "exclude": sorted(c.resource_id for c in selection.excluded_ids()),
        }
        for selection in sorted(config.all_cluster_selections(), key=lambda s: s.subscription or "")
    ]


def every_cluster_words(entry: dict[str, Any]) -> str:
    """'every AKS cluster (resolved at deploy time), except rg/aks-x': how every format says all: true."""
    excluded = [cluster_words(resource_id) for resource_id in entry["exclude"]]
    return "every AKS cluster (resolved at deploy time)" + (f", except {', '.join(excluded)}" if excluded else "")


def cluster_words(resource_id: str) -> str:
    """'rg/name' of a cluster's resource id."""
    cluster = parse_cluster_resource_id(resource_id)
    return f"{cluster.resource_group}/{cluster.name}" if cluster else resource_id


def _assignment(resource_name: str, inputs: dict[str, Any], import_id: str) -> dict[str, Any]:
    role_definition_id = str(inputs["roleDefinitionId"])
    role = _ROLE_NAMES.get(role_definition_id.rsplit("/", 1)[-1], "UNKNOWN ROLE")
    scope = str(inputs["scope"])
    above_clusters = role == AKS_RBAC_READER.name and parse_cluster_resource_id(scope) is None
    return {
        # adopt: an equivalent assignment exists and is imported (importId) instead of created
        "action": "adopt" if import_id else "create",
        "importId": import_id or None,
        "role": role,
        "roleDefinitionId": role_definition_id,
        "scope": scope,
        # AKS RBAC Reader above clusters: what it reaches (None for a grant on one cluster, and for Reader)
        "reach": reach_of(scope) if above_clusters else None,
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
    asked = list(dict.fromkeys(_invoke_question(config, call.token) for call in run.invokes))
    guard = [what for what in asked if what.startswith("tenant guard")]
    others = [what for what in asked if not what.startswith("tenant guard")]
    return [{"check": what, "status": NOT_CHECKED} for what in [*guard, *run.reads, *others]]


def _invoke_question(config: AccessConfig, token: str) -> str:
    if token.startswith("pulumi:pulumi:"):
        return "stack state: which grants this stack already holds (asked of the Pulumi backend)"
    if token == GET_CLIENT_CONFIG:
        return f"tenant guard: the credentials belong to tenant {config.tenant_id}"
    if token == GET_SERVICE_PRINCIPAL:
        return f"service principal lookup: app {BACKLINE_APP_ID} in tenant {config.tenant_id}"
    return token


_SHORT_ROLE_NAMES = {READER.name: "Reader", AKS_RBAC_READER.name: "AKS RBAC Reader"}
# Outputs that repeat what the grant table already shows.
_SHOWN_IN_TABLE = ("readerAssignments", "aksAssignments", "managementGroupAssignments")


def render_text(document: dict[str, Any], width: int = 80) -> str:
    """The plan for a person, in blocks per grant (the role and the cluster or subscription first, then its
    details, indented), wrapped at `width` between words: ids and commands are never broken."""
    principal = document["servicePrincipal"]
    kept = "deleted on destroy" if principal["deleteOnDestroy"] else "kept on destroy"
    assignments = document["assignments"]
    every = document.get("everyCluster", [])
    planned = f"stack {document['stack']}, " if document.get("stack") else ""
    lines = [
        *wrap_words(f"Offline plan of {planned}tenant {document['tenantId']}", width),
        "(Pulumi's mock engine: no credentials, no network, nothing changed)",
        "",
        f"Backline's application: {document['applicationId']}",
        *wrap_words(f"Service principal: {principal['mode']}: {principal['action']} ({kept})", width),
        "",
        *wrap_words(f"{_count_words(len(assignments), len(every))} (principal type ServicePrincipal):", width),
        *_per_scope(assignments, every, width),
    ]
    if assignments or every:
        lines += ["", "Grants:", *_grant_blocks(assignments, width), *_every_cluster_blocks(every, width)]
    lines += [
        "",
        *wrap_words(
            "Role definitions: "
            + ", ".join(f"{_SHORT_ROLE_NAMES[r.name]} {r.guid}" for r in (READER, AKS_RBAC_READER))
            + " (built-in, as /subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<guid>; at a "
            "management group /providers/Microsoft.Authorization/roleDefinitions/<guid>)",
            width,
        ),
    ]
    lines += _section(
        "Not checked offline (pulumi preview checks these against Azure):", _checks_text(document), "  ? ", width
    )
    lines += _section("Warnings:", document["warnings"], "  ! ", width)
    groups = any(management_group_of(str(a["scope"])) for a in assignments)
    lines += ["", "Outputs after pulumi up:", *_outputs(document["outputs"], groups, width)]
    return "\n".join(lines)


def _per_scope(assignments: Sequence[dict[str, Any]], every: Sequence[dict[str, Any]], width: int) -> list[str]:
    lines: list[str] = []
    for item in assignments:
        group = management_group_of(str(item["scope"]))
        if group is None:
            continue
        what = (
            "Reader (every subscription below it, present and future)"
            if item["role"] == READER.name
            else f"AKS RBAC Reader on {item['reach']}"
        )
        lines += wrap_words(f"management group {group}: {what}", width, "      ", "  ")
    subscription_wide = [a for a in assignments if management_group_of(str(a["scope"])) is None]
    return lines + _per_subscription(subscription_wide, every, width)


def _per_subscription(assignments: Sequence[dict[str, Any]], every: Sequence[dict[str, Any]], width: int) -> list[str]:
    readers: set[str] = set()
    clusters: dict[str, int] = {}
    above: dict[str, list[str]] = {}
    for item in assignments:
        subscription = str(item["scope"]).split("/")[2]
        if item["role"] == READER.name:
            readers.add(subscription)
        elif item.get("reach"):
            above.setdefault(subscription, []).append(str(item["reach"]))
        else:
            clusters[subscription] = clusters.get(subscription, 0) + 1
    all_of = {str(entry["subscription"]): entry for entry in every}
    lines = []
    for subscription in sorted(readers | set(clusters) | set(all_of) | set(above)):
        parts = ["Reader"] if subscription in readers else []
        parts += [f"AKS RBAC Reader on {reach}" for reach in above.get(subscription, [])]
        if subscription in clusters:
            count = clusters[subscription]
            parts.append(f"AKS RBAC Reader on {count} cluster{'s' if count != 1 else ''}")
        if subscription in all_of:
            parts.append(f"AKS RBAC Reader on {every_cluster_words(all_of[subscription])}")
        lines += wrap_words(f"subscription {subscription}: {', '.join(parts)}", width, "    ", "  ")
    return lines


def _grant_blocks(assignments: Sequence[dict[str, Any]], width: int) -> list[str]:
    """One block per grant: role and target first, then where it is and its assignment name."""
    lines = []
    for item in assignments:
        role = _SHORT_ROLE_NAMES.get(item["role"], item["role"])
        scope = str(item["scope"])
        group = management_group_of(scope)
        cluster = parse_cluster_resource_id(scope)
        if item.get("reach"):
            head, where = str(item["reach"]), scope
        elif group is not None:
            head, where = f"management group {group}", scope
        elif cluster is not None:
            head = f"cluster {cluster.name}"
            where = f"resource group {cluster.resource_group}, subscription {cluster.subscription}"
        else:
            head, where = f"subscription {scope.split('/')[2]}", ""
        lines += wrap_words(f"{role} on {head}: {item['action']}", width, "      ", "  ")
        if where:
            lines += wrap_words(where, width, "      ", "    ")
        lines += wrap_words(f"assignment name {item['name']}", width, "      ", "    ")
    return lines


def _count_words(known: int, every: int) -> str:
    """How many grants: those known now, and those only the deploy can count (all: true)."""
    counted = f"{known} role assignment(s) for Backline's service principal"
    if not every:
        return counted
    return (
        f"{counted} known now, and one per AKS cluster found at deploy time in {every} subscription(s) (all: true; "
        "offline, their number is not known)"
    )


def _every_cluster_blocks(every: Sequence[dict[str, Any]], width: int) -> list[str]:
    """The all: true grants, as broad as they are: every cluster of a subscription, its exclusions, and that each
    cluster found at deploy time gets its own assignment."""
    lines = []
    for entry in every:
        head = f"AKS RBAC Reader on every AKS cluster of subscription {entry['subscription']}: create"
        lines += wrap_words(head, width, "      ", "  ")
        lines += wrap_words("one grant per cluster found at deploy time (all: true)", width, "      ", "    ")
        for resource_id in entry["exclude"]:
            lines += wrap_words(f"except {cluster_words(resource_id)}", width, "      ", "    ")
    return lines


def _checks_text(document: dict[str, Any]) -> list[str]:
    return [check["check"] for check in document["checks"] if check["status"] == NOT_CHECKED]


def _section(title: str, items: Sequence[str], bullet: str, width: int) -> list[str]:
    if not items:
        return []
    lines = ["", title]
    for item in items:
        lines += wrap_words(item, width, " " * len(bullet), bullet)
    return lines


def _outputs(outputs: dict[str, Any], groups: bool, width: int) -> list[str]:
    lines = []
    for key, value in outputs.items():
        if key == "subscriptionIds":
            listed = str(value).replace(",", ", ")
            below = "every subscription below the management groups (resolved at deploy time)"
            text = (f"{listed}, and {below}" if value else below) if groups else listed
        elif key in _SHOWN_IN_TABLE:
            text = f"{len(value)} assignment id(s), one per grant above"
        elif key == "verificationCommands" and any(PLACEHOLDER_OBJECT_ID in command for command in value):
            text = (
                f"{len(value)} az commands, runnable once the service principal's object id is known (after pulumi "
                "up: pulumi stack output verificationCommands)"
            )
        elif isinstance(value, list):
            lines.append(f"  {key}:")
            lines += [f"    {v}" for v in value]  # commands: whole, to copy
            continue
        elif value == PLACEHOLDER_OBJECT_ID:
            text = "known after pulumi up"
        else:
            text = str(value)
        lines += wrap_words(f"{key}: {text}", width, "      ", "  ")
    return lines
