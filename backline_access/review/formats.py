"""The offline plan for reviewers: a pull-request comment in Markdown (with a mermaid diagram) and the
equivalent `az` commands for auditors. Both are built from the plan document (`report.plan_document`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..config import AKS_RBAC_READER, BACKLINE_APP_ID, READER, management_group_of
from .offline import PLACEHOLDER_OBJECT_ID
from .report import NOT_CHECKED, cluster_words, every_cluster_words

# Above these, the diagram shows counts instead of one node per cluster (or per subscription).
DIAGRAM_CLUSTERS = 40
DIAGRAM_SUBSCRIPTIONS = 25
# GitHub refuses a comment over 65,536 characters; above this the grant table collapses to counts.
MARKDOWN_LIMIT = 60_000
_SHORT = {READER.name: "Reader", AKS_RBAC_READER.name: "AKS RBAC Reader"}
FULL_PLAN = (
    "the full plan: `backline-access plan --format json` (publish it as a pipeline artifact, beside this comment)"
)


def render_markdown(document: dict[str, Any], limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: summary, warnings, the grant table and a mermaid diagram. Over `limit` characters,
    the table becomes counts per subscription inside <details>, as many as fit, and says where the rest is."""
    head = _markdown_head(document)
    tail = _markdown_tail(document)
    table = _grant_table(document)
    if len(head) + len(tail) + sum(len(line) + 1 for line in table) <= limit:
        return "\n".join([*head, "", *table, *tail]) + "\n"
    room = limit - sum(len(line) + 1 for line in [*head, *tail]) - 600
    return "\n".join([*head, "", *_collapsed_table(document, room), *tail]) + "\n"


def _markdown_head(document: dict[str, Any]) -> list[str]:
    assignments = document["assignments"]
    every = document.get("everyCluster", [])
    groups = [a for a in assignments if management_group_of(a["scope"]) is not None]
    subscriptions = {_subscription(a["scope"]) for a in assignments if a not in groups}
    subscriptions |= {str(entry["subscription"]) for entry in every}
    clusters = [a for a in assignments if a["role"] == AKS_RBAC_READER.name and not a.get("reach")]
    above = [a for a in assignments if a.get("reach")]
    readers = [a for a in assignments if a["role"] == READER.name and a not in groups]
    readers_on_groups = [a for a in groups if a["role"] == READER.name]
    on_groups = f", Reader on {len(readers_on_groups)} management group(s)" if readers_on_groups else ""
    on_above = (
        f", AKS RBAC Reader above clusters at {len(above)} scope(s) (every cluster there, present and future)"
        if above
        else ""
    )
    on_every = (
        f", and on every AKS cluster of {len(every)} subscription(s) (all: true, resolved at deploy time)"
        if every
        else ""
    )
    principal = document["servicePrincipal"]
    stack = f"stack `{document['stack']}`, " if document.get("stack") else ""
    return [
        f"### Backline access: {stack}tenant `{document['tenantId']}`",
        "",
        f"**{len(subscriptions)} subscription(s), {len(clusters)} listed cluster(s): {len(assignments)} role "
        f"assignment(s)** (Reader on {len(readers)} subscription(s){on_groups}, AKS RBAC Reader on {len(clusters)} "
        f"cluster(s){on_every}{on_above}); adopted: {_adopted(document)}; removed: only `pulumi preview` knows (this "
        "plan has no stack state).",
        "",
        f"Service principal of Backline's app `{BACKLINE_APP_ID}`: **{principal['mode']}**, {principal['action']}"
        f" ({'deleted' if principal['deleteOnDestroy'] else 'kept'} on destroy).",
    ]


def _grant_table(document: dict[str, Any]) -> list[str]:
    rows = [
        f"| {_SHORT.get(a['role'], a['role'])} | `{a['scope']}`{_reach_words(a)} | `{a['name']}` | "
        f"{a.get('action', 'create')} |"
        for a in document["assignments"]
    ]
    rows += [
        f"| AKS RBAC Reader | {_every_cluster_cell(entry)} | at deploy time | create for each cluster found |"
        for entry in document.get("everyCluster", [])
    ]
    return ["| Role | Scope | Assignment name | Action |", "| --- | --- | --- | --- |", *rows]


def _reach_words(assignment: dict[str, Any]) -> str:
    return f" ({assignment['reach']})" if assignment.get("reach") else ""


def _every_cluster_cell(entry: dict[str, Any]) -> str:
    excluded = ", ".join(f"`{cluster_words(resource_id)}`" for resource_id in entry["exclude"])
    text = f"every AKS cluster of `/subscriptions/{entry['subscription']}` (resolved at deploy time)"
    return text + (f", except {excluded}" if excluded else "")


def _collapsed_table(document: dict[str, Any], room: int) -> list[str]:
    """Counts per subscription (as many rows as `room` characters hold), folded inside <details>."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    broad: dict[str, int] = defaultdict(int)  # AKS RBAC Reader at the subscription or its resource groups
    groups = 0
    for item in document["assignments"]:
        if management_group_of(item["scope"]) is not None:
            groups += 1
            continue
        if item.get("reach"):
            broad[_subscription(item["scope"])] += 1
            continue
        counts[_subscription(item["scope"])][0 if item["role"] == READER.name else 1] += 1
    every = {str(entry["subscription"]): entry for entry in document.get("everyCluster", [])}
    rows = []
    for subscription in sorted(set(counts) | set(every) | set(broad)):
        reader, clusters = counts.get(subscription, [0, 0])
        also = f" + {every_cluster_words(every[subscription])}" if subscription in every else ""
        if subscription in broad:
            also += f" + {broad[subscription]} grant(s) above clusters (every cluster there, present and future)"
        rows.append(f"| `{subscription}` | {'yes' if reader else 'no'} | {clusters}{also} |")
    shown = _first_that_fit(rows, room)
    left = len(rows) - len(shown)
    total = len(document["assignments"])
    lines = [
        f"The grant table ({total} role assignments) is too long for a pull-request comment; see {FULL_PLAN}.",
        "",
        "<details>",
        f"<summary>Grants per subscription ({len(rows)} subscriptions"
        + (f", {groups} management group(s)" if groups else "")
        + ")</summary>",
        "",
        "| Subscription | Reader | AKS RBAC Reader on clusters |",
        "| --- | --- | --- |",
        *shown,
    ]
    if left:
        lines += ["", f"... and {left} more subscriptions: see {FULL_PLAN}."]
    return [*lines, "", "</details>"]


def _markdown_tail(document: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    warnings = document["warnings"]
    if warnings:
        shown = _first_that_fit([f"- {_one_line(w)}" for w in warnings], MARKDOWN_LIMIT // 4)
        lines += ["", f"**Warnings ({len(warnings)})**", "", *shown]
        if len(shown) < len(warnings):
            lines.append(f"- ... and {len(warnings) - len(shown)} more: see {FULL_PLAN}.")
    not_checked = [c["check"] for c in document["checks"] if c["status"] == NOT_CHECKED]
    if not_checked:
        shown = _first_that_fit([f"- {check}" for check in not_checked], MARKDOWN_LIMIT // 8)
        lines += ["", "**Not checked offline** (`pulumi preview` checks these against Azure):", "", *shown]
        if len(shown) < len(not_checked):
            lines.append(f"- ... and {len(not_checked) - len(shown)} more: see {FULL_PLAN}.")
    return [*lines, "", "```mermaid", *mermaid_lines(document), "```"]


def _first_that_fit(lines: list[str], room: int) -> list[str]:
    shown: list[str] = []
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            break
        shown.append(line)
    return shown


def mermaid_lines(document: dict[str, Any]) -> list[str]:
    """tenant -> service principal -> subscriptions -> clusters, collapsed where it would stop being readable."""
    by_subscription: dict[str, list[str]] = defaultdict(list)
    above: dict[str, list[str]] = defaultdict(list)  # AKS RBAC Reader at a subscription or its resource groups
    readers = set()
    groups: list[str] = []
    aks_groups: list[str] = []
    for item in document["assignments"]:
        group = management_group_of(item["scope"])
        if group is not None:
            (groups if item["role"] == READER.name else aks_groups).append(group)
            continue
        subscription = _subscription(item["scope"])
        if item["role"] == READER.name:
            readers.add(subscription)
        elif item.get("reach"):
            parts = item["scope"].rstrip("/").split("/")
            above[subscription].append(f"every AKS cluster in resource group {parts[4]}" if len(parts) == 5 else "")
        else:
            parts = item["scope"].split("/")
            by_subscription[subscription].append(f"{parts[8]}<br/>{parts[4]}")
    every = {str(entry["subscription"]): entry for entry in document.get("everyCluster", [])}
    subscriptions = sorted(readers | set(by_subscription) | set(every) | set(above))
    lines = [
        "flowchart LR",
        f'  tenant["Tenant {document["tenantId"]}"] --> sp["Backline service principal<br/>app {BACKLINE_APP_ID}"]',
    ]
    lines += [
        f'  sp -->|Reader| g{index}["Management group {group}<br/>every subscription below"]'
        for index, group in enumerate(groups)
    ]
    lines += [
        f'  sp -->|AKS RBAC Reader| ga{index}["Management group {group}<br/>every AKS cluster below, present and '
        'future"]'
        for index, group in enumerate(aks_groups)
    ]
    if len(subscriptions) > DIAGRAM_SUBSCRIPTIONS:
        cluster_count = sum(len(names) for names in by_subscription.values())
        lines.append(f'  sp -->|Reader| subs["{len(readers)} subscriptions"]')
        if cluster_count:
            label = f"{cluster_count} clusters in {len(by_subscription)} subscriptions"
            lines.append(f'  sp -->|AKS RBAC Reader| clusters["{label}"]')
        if every:
            label = f"every AKS cluster of {len(every)} subscriptions<br/>resolved at deploy time"
            lines.append(f'  sp -->|AKS RBAC Reader| every["{label}"]')
        if above:
            label = f"every AKS cluster below {sum(len(v) for v in above.values())} scopes<br/>present and future"
            lines.append(f'  sp -->|AKS RBAC Reader| above["{label}"]')
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
        for k, where in enumerate(above.get(subscription, [])):
            label = f"{where or 'every AKS cluster'}<br/>present and future"
            lines.append(f'  {node} -->|AKS RBAC Reader| {node}a{k}["{label}"]')
        if subscription in every:
            excluded = [cluster_words(resource_id) for resource_id in every[subscription]["exclude"]]
            label = "every AKS cluster<br/>resolved at deploy time" + (
                f"<br/>except {', '.join(excluded)}" if excluded else ""
            )
            lines.append(f'  {node} -->|AKS RBAC Reader| {node}all["{label}"]')
    return lines


def render_az(document: dict[str, Any]) -> str:
    """What `pulumi up` would do, as az commands an auditor can read or a person could run by hand."""
    object_id = document["servicePrincipal"]["objectId"]
    tenant = document["tenantId"]
    lines = [
        "#!/usr/bin/env bash",
        f"# The az commands equivalent to this plan (tenant {tenant}). pulumi up does the same, and also",
        "# adopts what exists and removes what the stack no longer asks for. A failed command stops the script.",
        "set -euo pipefail",
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
        lines.append(f"# {item['role']}" + (f" on {item['reach']}" if item.get("reach") else ""))
        lines.append(
            f"az role assignment create {assignee} --role {role_guid} --scope {item['scope']} --name {item['name']}"
        )
    for entry in document.get("everyCluster", []):
        lines += _every_cluster_loop(entry, assignee)
    return "\n".join(lines) + "\n"


def _every_cluster_loop(entry: dict[str, Any], assignee: str) -> list[str]:
    """all: true as a loop: list the subscription's clusters now, skip the excluded, assign each (names are
    Azure's; pulumi up derives its own from scope and role)."""
    subscription = entry["subscription"]
    lines = [f"# {AKS_RBAC_READER.name} on {every_cluster_words(entry)}, subscription {subscription} (all: true)"]
    if entry["exclude"]:
        lines.append("shopt -s nocasematch  # Azure compares resource ids case-insensitively")
    # An assignment, not `for ... in $(...)`: a failed listing then stops the script (set -e).
    lines.append(f'ids=$(az aks list --subscription {subscription} --query "[].id" -o tsv)')
    lines.append("for id in $ids; do")
    if entry["exclude"]:
        patterns = " | ".join(f'"{resource_id}"' for resource_id in entry["exclude"])
        lines.append(f"  case $id in {patterns}) continue ;; esac")
    lines += [f'  az role assignment create {assignee} --role {AKS_RBAC_READER.guid} --scope "$id"', "done"]
    return lines


def _adopted(document: dict[str, Any]) -> str:
    adopted = sum(1 for a in document["assignments"] if a.get("action") == "adopt")
    unchecked = any(c["check"].startswith("adoption:") and c["status"] == NOT_CHECKED for c in document["checks"])
    return f"{adopted} (not checked offline)" if unchecked and not adopted else str(adopted)


def _subscription(scope: str) -> str:
    return scope.split("/")[2]


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines())
