"""The offline plan for reviewers: a pull-request comment in Markdown (with a mermaid diagram) and the
equivalent `az` commands for auditors. Both are built from the plan document (`report.plan_document`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..config import AKS_RBAC_READER, BACKLINE_APP_ID, READER, management_group_of
from .offline import PLACEHOLDER_OBJECT_ID
from .report import NOT_CHECKED

# Above these, the diagram shows counts instead of one node per cluster (or per subscription).
DIAGRAM_CLUSTERS = 40
DIAGRAM_SUBSCRIPTIONS = 25
_SHORT = {READER.name: "Reader", AKS_RBAC_READER.name: "AKS RBAC Reader"}


def render_markdown(document: dict[str, Any]) -> str:
    assignments = document["assignments"]
    groups = [a for a in assignments if management_group_of(a["scope"]) is not None]
    subscriptions = sorted({_subscription(a["scope"]) for a in assignments if a not in groups})
    clusters = [a for a in assignments if a["role"] == AKS_RBAC_READER.name]
    readers = [a for a in assignments if a["role"] == READER.name and a not in groups]
    on_groups = f", Reader on {len(groups)} management group(s)" if groups else ""
    principal = document["servicePrincipal"]
    lines = [
        f"### Backline access for tenant `{document['tenantId']}`",
        "",
        f"**{len(subscriptions)} subscription(s), {len(clusters)} cluster(s): {len(assignments)} role assignment(s)** "
        f"(Reader on {len(readers)} subscription(s){on_groups}, AKS RBAC Reader on {len(clusters)} cluster(s)); "
        f"adopted: {_adopted(document)}; removed: only `pulumi preview` knows (this plan has no stack state).",
        "",
        f"Service principal of Backline's app `{BACKLINE_APP_ID}`: **{principal['mode']}**, {principal['action']}"
        f" ({'deleted' if principal['deleteOnDestroy'] else 'kept'} on destroy).",
        "",
        "| Role | Scope | Assignment name | Action |",
        "| --- | --- | --- | --- |",
        *(
            f"| {_SHORT.get(a['role'], a['role'])} | `{a['scope']}` | `{a['name']}` | {a.get('action', 'create')} |"
            for a in assignments
        ),
    ]
    if document["warnings"]:
        lines += ["", f"**Warnings ({len(document['warnings'])})**", ""]
        lines += [f"- {_one_line(w)}" for w in document["warnings"]]
    not_checked = [c["check"] for c in document["checks"] if c["status"] == NOT_CHECKED]
    if not_checked:
        lines += ["", "**Not checked offline** (`pulumi preview` checks these against Azure):", ""]
        lines += [f"- {check}" for check in not_checked]
    lines += ["", "```mermaid", *mermaid_lines(document), "```"]
    return "\n".join(lines) + "\n"


def mermaid_lines(document: dict[str, Any]) -> list[str]:
    """tenant -> service principal -> subscriptions -> clusters, collapsed where it would stop being readable."""
    by_subscription: dict[str, list[str]] = defaultdict(list)
    readers = set()
    groups = []
    for item in document["assignments"]:
        group = management_group_of(item["scope"])
        if group is not None:
            groups.append(group)
            continue
        subscription = _subscription(item["scope"])
        if item["role"] == READER.name:
            readers.add(subscription)
        else:
            parts = item["scope"].split("/")
            by_subscription[subscription].append(f"{parts[8]}<br/>{parts[4]}")
    subscriptions = sorted(readers | set(by_subscription))
    lines = [
        "flowchart LR",
        f'  tenant["Tenant {document["tenantId"]}"] --> sp["Backline service principal<br/>app {BACKLINE_APP_ID}"]',
    ]
    lines += [
        f'  sp -->|Reader| g{index}["Management group {group}<br/>every subscription below"]'
        for index, group in enumerate(groups)
    ]
    if len(subscriptions) > DIAGRAM_SUBSCRIPTIONS:
        cluster_count = sum(len(names) for names in by_subscription.values())
        lines.append(f'  sp -->|Reader| subs["{len(readers)} subscriptions"]')
        if cluster_count:
            label = f"{cluster_count} clusters in {len(by_subscription)} subscriptions"
            lines.append(f'  sp -->|AKS RBAC Reader| clusters["{label}"]')
        return lines
    many_clusters = sum(len(names) for names in by_subscription.values()) > DIAGRAM_CLUSTERS
    for index, subscription in enumerate(subscriptions):
        node = f"s{index}"
        label = f"Subscription {subscription}"
        edge = "-->|Reader|" if subscription in readers else "-.->|no Reader|"
        lines.append(f'  sp {edge} {node}["{label}"]')
        names = by_subscription.get(subscription, [])
        if many_clusters and names:
            lines.append(f'  {node} -->|AKS RBAC Reader| {node}c["{len(names)} clusters"]')
        else:
            lines += [f'  {node} -->|AKS RBAC Reader| {node}c{j}["{name}"]' for j, name in enumerate(names)]
    return lines


def render_az(document: dict[str, Any]) -> str:
    """What `pulumi up` would do, as az commands an auditor can read or a person could run by hand."""
    object_id = document["servicePrincipal"]["objectId"]
    tenant = document["tenantId"]
    lines = [
        f"# The az commands equivalent to this plan (tenant {tenant}). pulumi up does the same, and also",
        "# adopts what exists and removes what the stack no longer asks for.",
        f"az login --tenant {tenant}",
    ]
    if document["servicePrincipal"]["mode"] == "ensure" and not object_id:
        lines += [
            "# Backline's service principal, if it does not exist yet:",
            f"az ad sp show --id {BACKLINE_APP_ID} --query id -o tsv || az ad sp create --id {BACKLINE_APP_ID}",
        ]
    assignee = (
        f"--assignee-object-id {object_id} --assignee-principal-type ServicePrincipal"
        if object_id and object_id != PLACEHOLDER_OBJECT_ID
        else f"--assignee {BACKLINE_APP_ID}"
    )
    for item in document["assignments"]:
        role_guid = item["roleDefinitionId"].rsplit("/", 1)[-1]
        lines.append(f"# {item['role']}")
        lines.append(
            f"az role assignment create {assignee} --role {role_guid} --scope {item['scope']} --name {item['name']}"
        )
    return "\n".join(lines) + "\n"


def _adopted(document: dict[str, Any]) -> str:
    adopted = sum(1 for a in document["assignments"] if a.get("action") == "adopt")
    unchecked = any(c["check"].startswith("adoption:") and c["status"] == NOT_CHECKED for c in document["checks"])
    return f"{adopted} (not checked offline)" if unchecked and not adopted else str(adopted)


def _subscription(scope: str) -> str:
    return scope.split("/")[2]


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines())
