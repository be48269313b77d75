"""`backline-access init`: what a stack file must grant, from the bash script's flags, the answers to its
per-cluster question, and the access Backline already has. Reads go through the read side; writing the file is
`stack_file_edit`'s job."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..azure import (
    AssignmentInventory,
    ClusterInfo,
    ClusterInventory,
    GroupInventory,
    RoleAssignmentInfo,
    unreadable_scopes,
)
from ..config import (
    AKS_RBAC_READER,
    BACKLINE_APP_ID,
    MANAGEMENT_GROUPS_FIX,
    READER,
    SUBSCRIPTIONS_FIX,
    ClusterId,
    guid_problem,
    management_group_of,
    management_group_problem,
    management_group_scope,
    parse_cluster_resource_id,
    rbac_fix,
    subscription_scope,
)
from .stack_file_edit import AKS, TENANT, Wanted, listed_cluster

_ROLE_NAMES = {READER.guid: READER.name, AKS_RBAC_READER.guid: AKS_RBAC_READER.name}


class InitError(Exception):
    """A problem that stops init before anything is written (the message says what to do)."""


class InitReads(Protocol):
    def credentials_tenant(self) -> str | None: ...
    def service_principal(self, app_id: str) -> str | None: ...
    def subscriptions(self) -> list[str]: ...
    def role_assignments(self, principal_id: str, scopes: Iterable[str]) -> AssignmentInventory: ...
    def clusters_in(self, subscriptions: Iterable[str]) -> ClusterInventory: ...
    def subscriptions_below(self, groups: Iterable[str]) -> GroupInventory: ...


@dataclass(frozen=True)
class Request:
    """The flags, with the bash script's meaning."""

    cloud_subs: Sequence[str] = ()
    aks_subs: Sequence[str] = ()
    aks_all: bool = False
    management_groups: Sequence[str] = ()
    from_existing: bool = False
    # With --aks-all: "cluster" (a grant per cluster found) or "subscription" (one grant at the subscription); None:
    # not given (asked on a terminal, else "cluster").
    aks_grant_at: str | None = None


def flag_problems(request: Request, tenant: str | None) -> list[str]:
    """The script's messages for bad input, one per problem."""
    problems: list[str] = []
    for flag, values in (("--cloud-sub", request.cloud_subs), ("--aks-sub", request.aks_subs)):
        for value in values:
            if value.startswith("-"):
                problems.append(f"{flag} requires a subscription ID (got the flag '{value}')")
            elif guid_problem(value):
                problems.append(f"Invalid GUID format for subscription ID: {value}")
    if tenant is not None and guid_problem(tenant):
        problems.append(f"Invalid GUID format for tenant ID: {tenant}")
    for value in request.management_groups:
        problem = management_group_problem(value)
        if value.startswith("-"):
            problems.append(f"--management-group requires a management group ID (got the flag '{value}')")
        elif problem:
            problems.append(f"Invalid management group ID: {value} {problem}")
    if request.aks_all and not request.aks_subs:
        problems.append("--aks-all is used with --aks-sub: give the subscriptions whose clusters to take")
    if request.aks_grant_at is not None and request.aks_grant_at not in ("cluster", "subscription"):
        problems.append(f"--aks-grant-at takes cluster or subscription (got '{request.aks_grant_at}')")
    elif request.aks_grant_at is not None and not request.aks_all:
        problems.append("--aks-grant-at goes with --aks-all: it says how every cluster of a subscription is granted")
    if not (request.cloud_subs or request.aks_subs or request.management_groups or request.from_existing):
        problems.append(
            "Nothing to do: give --cloud-sub, --aks-sub, --management-group or --from-existing (see --help)"
        )
    return problems


@dataclass(frozen=True)
class Present:
    """What a stack file already says (read leniently: init adds to it, the validation comes after)."""

    tenant_id: str | None = None
    clusters: frozenset[ClusterId] = frozenset()
    every_cluster: frozenset[str] = frozenset()
    provider_settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Present:
        """From the `config:` mapping of a stack file."""
        clusters: set[ClusterId] = set()
        every: set[str] = set()
        for entry in config.get(AKS) or []:
            if not isinstance(entry, dict):
                continue
            subscription = str(entry.get("subscription", "")).lower()
            if entry.get("all") is True:
                every.add(subscription)
            listed = (listed_cluster(subscription, item) for item in entry.get("clusters") or [])
            clusters.update(cluster for cluster in listed if cluster is not None)
        settings = {
            key.partition(":")[2]: str(value) for key, value in config.items() if str(key).startswith("azure-native:")
        }
        tenant = config.get(TENANT)
        return cls(str(tenant).lower() if tenant else None, frozenset(clusters), frozenset(every), settings)


# --- the access Backline already has ---------------------------------------------------------------


@dataclass
class TakenOver:
    subscriptions: list[str] = field(default_factory=list)
    management_groups: list[str] = field(default_factory=list)
    clusters: list[ClusterId] = field(default_factory=list)
    left: list[RoleAssignmentInfo] = field(default_factory=list)  # other roles, scopes or conditions


def take_over(assignments: Iterable[RoleAssignmentInfo]) -> TakenOver:
    """Which of Backline's assignments a stack config can reproduce exactly (and so adopt): Reader on a
    subscription or a management group, AKS RBAC Reader on a cluster, without a condition. The rest is left."""
    found = TakenOver()
    seen: set[str] = set()
    for assignment in sorted(assignments, key=lambda a: a.id.lower()):
        if assignment.id.lower() in seen:
            continue  # listed under several subscriptions (a group's is above each of them)
        seen.add(assignment.id.lower())
        scope = assignment.scope.rstrip("/")
        parts = scope.split("/")
        cluster = parse_cluster_resource_id(scope)
        if assignment.condition is not None:
            found.left.append(assignment)
        elif assignment.role_guid == READER.guid and len(parts) == 3 and parts[1].lower() == "subscriptions":
            found.subscriptions.append(parts[2].lower())
        elif assignment.role_guid == READER.guid and (group := management_group_of(scope)) is not None:
            found.management_groups.append(group)
        elif assignment.role_guid == AKS_RBAC_READER.guid and cluster is not None:
            found.clusters.append(ClusterId.of(cluster.subscription, cluster.resource_group, cluster.name))
        else:
            found.left.append(assignment)
    return found


def describe_left(assignment: RoleAssignmentInfo) -> str:
    role = _ROLE_NAMES.get(assignment.role_guid, f"role {assignment.role_guid}")
    why = " with a condition" if assignment.condition is not None else ""
    return f"{role}{why} at {assignment.scope} (assignment {assignment.name})"


# --- gathering ---------------------------------------------------------------------------------------

Ask = Callable[[str], bool]
Say = Callable[[str], None]


def needs_azure(request: Request) -> bool:
    """Whether the flags ask for something only Azure can answer (clusters to list, access to take over)."""
    return bool(request.aks_subs and not request.aks_all) or request.from_existing


def gather(
    request: Request, reads: InitReads | None, tenant_id: str, present: Present, ask: Ask | None, say: Say
) -> Wanted:
    """Everything the stack file must grant. `ask` is None without a terminal (then --aks-all is needed); `reads`
    is None when Azure could not be signed in to and the flags need no answer from it (then nothing is checked,
    and init says what it did not check)."""
    wanted = Wanted(tenant_id, [s.lower() for s in request.cloud_subs], list(request.management_groups))
    if reads is None:
        _say_unchecked(request, say)
    else:
        visible = reads.subscriptions() if request.cloud_subs or request.aks_subs or request.from_existing else []
        _check_visible(request, reads, visible, say)
        if request.from_existing:
            taken = _add_existing(wanted, request, reads, visible, say)
            if not taken and not (request.cloud_subs or request.aks_subs or request.management_groups):
                raise InitError(
                    "--from-existing found no access of Backline's to take over, and no other flag asks for any: "
                    "nothing written. Grant access with --cloud-sub, --aks-sub or --management-group."
                )
    if request.aks_subs:
        _add_clusters(wanted, request, reads, present, ask, say)
    return wanted


def _check_visible(request: Request, reads: InitReads, visible: list[str], say: Say) -> None:
    """Warns about each subscription and management group these credentials cannot see (written as asked)."""
    named = [("--cloud-sub", s.lower()) for s in request.cloud_subs] + [
        ("--aks-sub", s.lower()) for s in request.aks_subs
    ]
    for flag, subscription in dict.fromkeys(named):
        if subscription not in visible:
            say(
                f"Warning: {flag} {subscription} is not among the {len(visible)} subscription(s) these credentials "
                f"see: a typo, or another tenant's? ({SUBSCRIPTIONS_FIX}). Written as asked: the identity that runs "
                "pulumi up may see more."
            )
    if request.management_groups:
        unread = reads.subscriptions_below(dict.fromkeys(request.management_groups)).failures
        for group in unread:
            say(
                f"Warning: --management-group {group} cannot be read with these credentials: not found (a typo, or "
                f"a display name instead of the id? {MANAGEMENT_GROUPS_FIX}), or no Reader there. Written as asked: "
                "the identity that runs pulumi up may see more."
            )


def _say_unchecked(request: Request, say: Say) -> None:
    unchecked = [f"--cloud-sub {s}" for s in request.cloud_subs] + [f"--aks-sub {s}" for s in request.aks_subs]
    unchecked += [f"--management-group {g}" for g in request.management_groups]
    say(
        "Not checked (Azure was not read): that these exist and the credentials see them: "
        + ", ".join(unchecked)
        + ". pulumi preview checks them; or sign in (az login) and run init again."
    )


def _add_existing(wanted: Wanted, request: Request, reads: InitReads, visible: list[str], say: Say) -> int:
    """Adds what Backline's principal has to `wanted`; how many assignments that is."""
    principal = reads.service_principal(BACKLINE_APP_ID)
    if principal is None:
        say(
            f"--from-existing: Backline's service principal (app {BACKLINE_APP_ID}) does not exist in the tenant: "
            "no access to take over."
        )
        return 0
    scopes = [subscription_scope(s) for s in visible]
    scopes += [management_group_scope(g) for g in request.management_groups]
    inventory = reads.role_assignments(principal, scopes)
    if inventory.failures:
        raise InitError(
            "--from-existing: cannot read the role assignments of Backline's service principal (nothing written):\n"
            + unreadable_scopes(inventory.failures, "the identity that runs init")
        )
    found = take_over(a for listed in inventory.assignments.values() for a in listed)
    wanted.subscriptions += found.subscriptions
    wanted.management_groups += found.management_groups
    for cluster in found.clusters:
        wanted.add_cluster(cluster.subscription_id, cluster.resource_group, cluster.name)
    total = len(found.subscriptions) + len(found.management_groups) + len(found.clusters)
    say(
        f"--from-existing: Backline's service principal {principal} has {total} assignment(s) to take over in the "
        f"{len(visible)} subscription(s) these credentials see "
        f"(Reader on {len(found.subscriptions)} subscription(s) and {len(found.management_groups)} management "
        f"group(s), AKS RBAC Reader on {len(found.clusters)} cluster(s)); pulumi up adopts them and creates none."
    )
    for assignment in found.left:
        say(f"  not taken over (left as it is; the stack neither manages nor removes it): {describe_left(assignment)}")
    return total


def _grant_at_subscription(request: Request, subscription: str, ask: Ask | None) -> bool:
    """--aks-grant-at, else the question on a terminal, else one grant per cluster (today's way)."""
    if request.aks_grant_at is not None:
        return request.aks_grant_at == "subscription"
    if ask is None or not request.aks_all:
        return False
    return ask(
        f"Grant AKS RBAC Reader once at subscription {subscription}, so that every cluster in it, present and "
        "future, is covered without another pulumi up (grantAt: subscription)? Otherwise each cluster found at "
        "each pulumi up gets its own grant."
    )


def _add_clusters(
    wanted: Wanted, request: Request, reads: InitReads | None, present: Present, ask: Ask | None, say: Say
) -> None:
    subscriptions = list(dict.fromkeys(s.lower() for s in request.aks_subs))
    if request.aks_all or reads is None:
        wanted.every_cluster += subscriptions
        wanted.at_subscription += [s for s in subscriptions if _grant_at_subscription(request, s, ask)]
        return
    inventory = reads.clusters_in(subscriptions)
    if inventory.failures:
        raise InitError(
            "Cannot list the AKS clusters (nothing written):\n"
            + unreadable_scopes(inventory.failures, "the identity that runs init", in_subscriptions=True)
        )
    for subscription in subscriptions:
        found = sorted(inventory.clusters.get(subscription, []), key=lambda info: info.cluster)
        say(_cluster_table(subscription, found))
        if subscription in present.every_cluster:
            say("  all: true in the stack file already: every cluster is granted.")
            continue
        for info in found:
            cluster = info.cluster
            if cluster in present.clusters or (cluster.resource_group, cluster.name) in {
                (g.lower(), n.lower()) for g, n in wanted.clusters.get(subscription, [])
            }:
                continue
            if ask is None:  # checked before any read; kept as a guard against a hang
                raise InitError("no terminal to ask on: pass --aks-all")
            question = f"Grant AKS RBAC Reader access to '{cluster.name}' (resource group: {cluster.resource_group})?"
            if ask(question):
                wanted.add_cluster(subscription, cluster.resource_group, cluster.name)


def _cluster_table(subscription: str, found: Sequence[ClusterInfo]) -> str:
    if not found:
        return f"Subscription {subscription}: no AKS clusters."
    lines = [f"Subscription {subscription}: {len(found)} AKS cluster(s)"]
    for info in found:
        rbac = "on" if info.azure_rbac else f"OFF (enable it: {rbac_fix(info.cluster)})"
        lines.append(f"  {info.cluster.name}  resource group {info.cluster.resource_group}  Azure RBAC {rbac}")
    return "\n".join(lines)
