"""Azure identifier rules: GUIDs, resource names, canonical scopes. Pure functions, no Pulumi."""

from __future__ import annotations

import re
from dataclasses import dataclass

GUID_FORM = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
GUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_GUID = re.compile(GUID_PATTERN)
_BARE_HEX = re.compile(r"^[0-9a-fA-F]{32}$")

# The patterns below serve both the program and the JSON Schema (ECMA-262 regexes have no flags, so
# case-insensitive parts are spelled out as [Aa] classes).
# Resource group: 1-90 chars of letters, digits, '_', '-', '.', '(' and ')'; must not end in '.'.
RESOURCE_GROUP_PATTERN = r"^[-\w.()]{0,89}[-\w()]$"
# AKS cluster: 1-63 chars of letters, digits, '_' and '-'; starts and ends with a letter or digit.
CLUSTER_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"
# Management group id (its name, not its display name): 1-90 letters, digits, '-', '_', '.', '(' and ')';
# must not end in '.'.
MANAGEMENT_GROUP_PATTERN = r"^[-\w.()]{0,89}[-\w()]$"
_RESOURCE_GROUP = re.compile(RESOURCE_GROUP_PATTERN)
_CLUSTER = re.compile(CLUSTER_NAME_PATTERN)
_MANAGEMENT_GROUP = re.compile(MANAGEMENT_GROUP_PATTERN, re.ASCII)


def case_insensitive(literal: str) -> str:
    """A regex matching `literal` in any case, without flags: 'ab.' -> '[Aa][Bb]\\.'."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in literal)


CLUSTER_ID_PATTERN = (
    f"^{case_insensitive('/subscriptions/')}[^/]+{case_insensitive('/resourceGroups/')}[^/]+"
    f"{case_insensitive('/providers/Microsoft.ContainerService/managedClusters/')}[^/]+/?$"
)
_CLUSTER_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/Microsoft\.ContainerService/managedClusters/(?P<name>[^/]+)/?$",
    re.IGNORECASE,
)


def guid_problem(value: str) -> str | None:
    """Why `value` is not a GUID of the documented form, or None when it is one."""
    text = value.strip()
    if _GUID.match(text):
        return None if text == value else "has surrounding spaces"
    if text.startswith("{") and text.endswith("}") and _GUID.match(text[1:-1]):
        return f"has braces; write it as {GUID_FORM} without them"
    if text.lower().startswith("urn:uuid:") and _GUID.match(text[9:]):
        return f"has a 'urn:uuid:' prefix; write it as {GUID_FORM} without it"
    if _BARE_HEX.match(text):
        return f"has no hyphens; write it as {GUID_FORM}"
    return f"is not a GUID of the form {GUID_FORM} (hex digits)"


def normalize_guid(value: str) -> str:
    """The lower-case form of a valid GUID; raises ValueError with the reason otherwise."""
    problem = guid_problem(value)
    if problem:
        raise ValueError(problem)
    return value.lower()


def resource_group_problem(name: str) -> str | None:
    if not _RESOURCE_GROUP.match(name):
        return "is not a valid resource group name (1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.')"
    return None


def cluster_name_problem(name: str) -> str | None:
    if not _CLUSTER.match(name):
        return (
            "is not a valid AKS cluster name (1-63 letters, digits, '_' or '-', "
            "starting and ending with a letter or digit)"
        )
    return None


def management_group_problem(name: str) -> str | None:
    if name.lower().startswith("/providers/"):
        return "is a resource id; write only the group's id (the last part of it)"
    if not _MANAGEMENT_GROUP.match(name):
        return (
            "is not a valid management group id (1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in "
            "'.'; the id, not the display name)"
        )
    return None


@dataclass(frozen=True, order=True)
class ClusterId:
    """One AKS cluster, named by stable keys. Names are stored lower-case: Azure compares them
    case-insensitively, and one textual form keeps scopes (and so assignments) from being replaced."""

    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def of(cls, subscription_id: str, resource_group: str, name: str) -> ClusterId:
        return cls(subscription_id.lower(), resource_group.lower(), name.lower())

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{self.name}"
        )


@dataclass(frozen=True)
class ParsedClusterId:
    subscription: str
    resource_group: str
    name: str


def parse_cluster_resource_id(resource_id: str) -> ParsedClusterId | None:
    """Split an AKS resource id into its parts (unvalidated), or None if it has another shape."""
    match = _CLUSTER_ID.match(resource_id.strip())
    if not match:
        return None
    return ParsedClusterId(match["subscription"], match["resource_group"], match["name"])


def subscription_scope(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id.lower()}"


MANAGEMENT_GROUP_SCOPE_PREFIX = "/providers/Microsoft.Management/managementGroups/"


def management_group_scope(group: str) -> str:
    return f"{MANAGEMENT_GROUP_SCOPE_PREFIX}{group}"


def management_group_of(scope: str) -> str | None:
    """The group id of a management group scope, or None for any other scope."""
    prefix = MANAGEMENT_GROUP_SCOPE_PREFIX.lower()
    trimmed = scope.rstrip("/")
    if trimmed.lower().startswith(prefix) and "/" not in trimmed[len(prefix) :]:
        return trimmed[len(prefix) :]
    return None
