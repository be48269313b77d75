"""Writing what `backline-access init` found into a `Pulumi.<stack>.yaml`: a round trip through ruamel.yaml that
keeps the user's comments, key order, indentation and other keys, adds only what is missing, and replaces the
file atomically. Pure text in, text out, apart from `write_atomically`."""

from __future__ import annotations

import copy
import difflib
import io
import json
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.tokens import CommentToken

from ..config import NAMESPACE, TENANT_FIX, ClusterId, ConfigError, Problem, parse_cluster_resource_id

TENANT = f"{NAMESPACE}:tenantId"
SUBSCRIPTIONS = f"{NAMESPACE}:subscriptions"
MANAGEMENT_GROUPS = f"{NAMESPACE}:managementGroups"
AKS = f"{NAMESPACE}:aks"
# Where new keys go, relative to each other (keys of the user's stay where they are).
_ORDER = (TENANT, SUBSCRIPTIONS, MANAGEMENT_GROUPS, AKS)


@dataclass
class Wanted:
    """The access a stack file must grant (at least): what flags, prompts and existing access asked for."""

    tenant_id: str
    subscriptions: list[str] = field(default_factory=list)
    management_groups: list[str] = field(default_factory=list)
    clusters: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # subscription -> (rg, name)
    every_cluster: list[str] = field(default_factory=list)  # subscriptions with all: true
    at_subscription: list[str] = field(default_factory=list)  # ... of which grantAt: subscription

    def add_cluster(self, subscription: str, resource_group: str, name: str) -> None:
        listed = self.clusters.setdefault(subscription, [])
        if (resource_group.lower(), name.lower()) not in {(g.lower(), n.lower()) for g, n in listed}:
            listed.append((resource_group, name))


@dataclass(frozen=True)
class Merged:
    text: str
    changes: list[str]


class StackFile:
    """A stack file's text, parsed once for a round trip (the parse is the slow part of a large file)."""

    def __init__(self, original: str | None, name: str = "the stack file") -> None:
        self.original = original
        text = (original or "").replace("\r\n", "\n")
        self.yaml = _yaml_like(text)
        self.yaml.explicit_start = text.lstrip().startswith("---")
        try:
            self.document: Any = self.yaml.load(text) if text.strip() else None
        except YAMLError as error:
            problem = Problem(name, f"is not valid YAML: {error}")
            raise ConfigError([problem], heading="Invalid stack file") from None
        self.comments_only = text if self.document is None and text.strip() else ""

    def config(self) -> dict[str, Any]:
        """The `config:` mapping as it is now (empty when there is none)."""
        document = self.document
        config = document.get("config") if isinstance(document, dict) else None
        return config if isinstance(config, dict) else {}


def merge(stack_file: StackFile, wanted: Wanted, stack: str, header: str = "") -> Merged:
    """The stack file with `wanted` merged in, and what changed (empty: nothing to write). It changes the parsed
    document in place: merge once per StackFile."""
    original, yaml, document, kept = stack_file.original, stack_file.yaml, stack_file.document, stack_file.comments_only
    if document is None:
        document = stack_file.document = CommentedMap()
        if header and not kept:
            document.yaml_set_start_comment(header)
    if not isinstance(document, CommentedMap):
        raise ConfigError([Problem(f"Pulumi.{stack}.yaml", "must be a YAML mapping with a 'config' key")])
    if not isinstance(document.get("config"), CommentedMap):
        if document.get("config") is not None:
            raise ConfigError([Problem("config", "must be a mapping of keys to values", value=document["config"])])
        _insert(document, "config", CommentedMap(), len(document))
    config: CommentedMap = document["config"]
    changes = _merge_tenant(config, wanted.tenant_id, stack)
    changes += _merge_ids(config, SUBSCRIPTIONS, wanted.subscriptions, "subscription")
    changes += _merge_ids(config, MANAGEMENT_GROUPS, wanted.management_groups, "management group")
    changes += _merge_aks(config, wanted)
    if not changes:
        return Merged(original or "", [])
    out = io.StringIO()
    yaml.dump(document, out)
    merged = (kept.rstrip("\n") + "\n" if kept else "") + out.getvalue()
    if original and "\r\n" in original:  # the file's own line endings, so the diff shows only what changed
        merged = merged.replace("\n", "\r\n")
    return Merged(merged, changes)


def unified_diff(before: str, after: str, path: Path) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path.name}", f"b/{path.name}"
        )
    )


def unwritable_because(path: Path) -> str | None:
    """Why `write_atomically` could not write `path`, found before any work by making (and removing) a file
    beside it; None when it can. (As root, permission bits say nothing; a read-only mount or a missing folder
    only shows by trying.)"""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        return "is a folder, not a file"
    folder = target.parent
    if not folder.exists():
        return f"cannot be written: the folder {folder} does not exist"
    if not folder.is_dir():
        return f"cannot be written: {folder} is not a folder"
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".probe")
    except OSError as error:
        return f"cannot be written: no file can be made in {folder} ({error.strerror or error})"
    os.close(handle)
    os.unlink(probe)
    return None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: a reader (or a crash) sees the old file or the new one, never half of it. A
    symlinked stack file stays a symlink: its target is replaced."""
    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    with _ctrl_c_held():
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ctrl-C is held back while a file is written (milliseconds): the command's Ctrl-C handler leaves the process
    at once, which must not leave a temporary file behind, nor end with "nothing was written" when it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --- merging each key -------------------------------------------------------------------------------


def _merge_tenant(config: CommentedMap, tenant_id: str, stack: str) -> list[str]:
    present = config.get(TENANT)
    if present is None:
        _insert(config, TENANT, tenant_id, 0)
        return [f"{TENANT}: {tenant_id}"]
    if str(present).strip().lower() != tenant_id.lower():
        raise tenant_conflict(stack, str(present), tenant_id)
    return []


def tenant_conflict(stack: str, present: str, asked: str) -> ConfigError:
    """One stack is one tenant: a stack file of another tenant is never rewritten."""
    return ConfigError(
        [
            Problem(
                TENANT,
                f"is {present} in Pulumi.{stack}.yaml, but the tenant asked for is {asked}; one stack is one tenant",
                f"init another stack (--stack <name>) for tenant {asked}, or pass --tenant {present} ({TENANT_FIX})",
                present,
            )
        ],
        heading="The stack file is for another tenant",
    )


def _merge_ids(config: CommentedMap, key: str, ids: Iterable[str], what: str) -> list[str]:
    wanted = _unique_ignoring_case(ids)
    if not wanted:
        return []
    present = _list_at(config, key)
    if present is None:
        _insert(config, key, CommentedSeq(wanted), _position(config, key))
        return [f"{key}: + {what} {item}" for item in wanted]
    known = {str(item).strip().lower() for item in present}
    added = [item for item in wanted if item.lower() not in known]
    for item in added:
        _append(present, item)
    return [f"{key}: + {what} {item}" for item in added]


def _merge_aks(config: CommentedMap, wanted: Wanted) -> list[str]:
    subscriptions = list(dict.fromkeys([*wanted.every_cluster, *wanted.clusters]))
    if not subscriptions:
        return []
    entries = _list_at(config, AKS)
    if entries is None:
        entries = CommentedSeq()
        _insert(config, AKS, entries, _position(config, AKS))
    changes: list[str] = []
    for subscription in subscriptions:
        entry = _entry_for(entries, subscription)
        every = subscription in wanted.every_cluster
        at_subscription = subscription in wanted.at_subscription
        if entry is None:
            entry = CommentedMap([("subscription", subscription)])
            if every:
                entry["all"] = True
                if at_subscription:
                    entry["grantAt"] = "subscription"
            else:
                entry["clusters"] = CommentedSeq(_cluster(g, n) for g, n in wanted.clusters[subscription])
            _append(entries, entry)
            changes.append(_entry_change(subscription, every, wanted.clusters.get(subscription, []), at_subscription))
            continue
        changes += _merge_entry(entry, subscription, every, wanted.clusters.get(subscription, []))
        if at_subscription and entry.get("grantAt") != "subscription":
            entry["grantAt"] = "subscription"
            changes.append(f"{AKS}: subscription {subscription}: one grant at the subscription (grantAt: subscription)")
    return changes


def _merge_entry(entry: CommentedMap, subscription: str, every: bool, clusters: list[tuple[str, str]]) -> list[str]:
    if entry.get("all") is True:
        return []  # every cluster already: the ones asked for are among them
    if every:
        comment = _take_trailing_comment(entry, "clusters") if "clusters" in entry else None
        entry.pop("clusters", None)
        entry["all"] = True
        if comment is not None:
            _give_trailing_comment(entry, "all", comment)
        return [f"{AKS}: subscription {subscription}: every cluster (all: true) instead of the clusters listed"]
    listed = entry.get("clusters")
    if listed is None:
        listed = CommentedSeq()
        entry["clusters"] = listed
    known = {listed_cluster(subscription, item) for item in listed}
    added = [(g, n) for g, n in clusters if ClusterId.of(subscription, g, n) not in known]
    for group, name in added:
        _append(listed, _cluster(group, name))
    return [f"{AKS}: subscription {subscription}: + cluster {group}/{name}" for group, name in added]


def _list_at(config: CommentedMap, key: str) -> CommentedSeq | None:
    """The list under `key`, or None when the key is absent or null. A list that `pulumi config set` stored as a
    JSON string becomes a YAML list, which is what the program reads it as."""
    value = config.get(key)
    if value is None or isinstance(value, CommentedSeq):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, list):
            listed = CommentedSeq(_commented(item) for item in decoded)
            config[key] = listed
            return listed
    raise ConfigError([Problem(key, "must be a YAML list to add to", value=value)])


def _unique_ignoring_case(items: Iterable[str]) -> list[str]:
    """Ids compare case-insensitively in Azure: the first spelling of each one."""
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            unique.append(item)
    return unique


def _commented(value: Any) -> Any:
    if isinstance(value, list):
        return CommentedSeq(_commented(item) for item in value)
    if isinstance(value, dict):
        return CommentedMap((key, _commented(item)) for key, item in value.items())
    return value


def _entry_change(subscription: str, every: bool, clusters: list[tuple[str, str]], at_subscription: bool) -> str:
    if every and at_subscription:
        return (
            f"{AKS}: + subscription {subscription}: every cluster, present and future, by one grant at the "
            "subscription (all: true, grantAt: subscription)"
        )
    if every:
        return f"{AKS}: + subscription {subscription}: every cluster (all: true)"
    names = ", ".join(f"{group}/{name}" for group, name in clusters)
    return f"{AKS}: + subscription {subscription}: clusters {names}"


def _entry_for(entries: CommentedSeq, subscription: str) -> CommentedMap | None:
    for entry in entries:
        if isinstance(entry, CommentedMap) and str(entry.get("subscription", "")).lower() == subscription.lower():
            return entry
    return None


def _cluster(resource_group: str, name: str) -> CommentedMap:
    return CommentedMap([("resourceGroup", resource_group), ("name", name)])


def listed_cluster(subscription: str, item: Any) -> ClusterId | None:
    """A cluster as an `aks` entry of `subscription` lists it: its resource id, or a {resourceGroup, name}
    mapping (None for anything else; the validation names it)."""
    if isinstance(item, str):
        parsed = parse_cluster_resource_id(item)
        return ClusterId.of(parsed.subscription, parsed.resource_group, parsed.name) if parsed else None
    if isinstance(item, Mapping) and item.get("resourceGroup") and item.get("name"):
        return ClusterId.of(subscription, str(item["resourceGroup"]), str(item["name"]))
    return None


# --- ruamel.yaml: style and comments ------------------------------------------------------------------


def _yaml_like(original: str | None) -> YAML:
    """A round-trip YAML that writes in the file's own indentation (the example stack's for a new file)."""
    sequence, offset = _list_style(original or "")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=sequence, offset=offset)
    return yaml


def _list_style(text: str) -> tuple[int, int]:
    """The indentation of the file's first block list: (of its items' content, of its dashes), both relative to
    the key that holds it. The example stack's (4, 2) when the file has no block list."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        dash = re.match(r"^( *)- ", line)
        if not dash:
            continue
        parent = next(
            (lines[n] for n in range(number - 1, -1, -1) if lines[n].strip() and not lines[n].lstrip().startswith("#")),
            None,
        )
        if parent is None or not parent.rstrip().endswith(":"):
            continue
        offset = len(dash.group(1)) - (len(parent) - len(parent.lstrip(" ")))
        if offset >= 0:
            return offset + 2, offset
    return 4, 2


def _position(config: CommentedMap, key: str) -> int:
    """After the last present key that comes before `key` in the usual order; else at the end."""
    before = _ORDER[: _ORDER.index(key)]
    keys = list(config)
    positions = [keys.index(k) + 1 for k in before if k in keys]
    return max(positions) if positions else len(keys)


def _insert(mapping: CommentedMap, key: str, value: Any, position: int) -> None:
    # ruamel attaches a comment to the line before it: the comment that heads the next key belongs, in the file,
    # to the end of the previous value. Moving it keeps it above the key it describes.
    keys = list(mapping)
    comment = _take_trailing_comment(mapping, keys[position - 1]) if 0 < position <= len(keys) else None
    mapping.insert(position, key, value)
    if comment is not None:
        _give_trailing_comment(mapping, key, comment)


def _append(sequence: CommentedSeq, item: Any) -> None:
    comment = _take_trailing_comment(sequence, len(sequence) - 1) if len(sequence) else None
    sequence.append(item)
    if comment is not None:
        _give_trailing_comment(sequence, len(sequence) - 1, comment)


def _slot(container: CommentedMap | CommentedSeq) -> int:
    # ruamel keeps the comment after a mapping value at index 2 of its entry, after a list item at index 0.
    return 2 if isinstance(container, CommentedMap) else 0


def _take_trailing_comment(container: CommentedMap | CommentedSeq, key: Any) -> CommentToken | None:
    """Detach the comment lines after `container[key]`, which ruamel keeps on its deepest last item. An inline
    comment on that item's own line stays where it is."""
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        inner = _take_trailing_comment(value, last)
        if inner is not None:
            return inner
    entry = container.ca.items.get(key)
    slot = _slot(container)
    token = entry[slot] if entry and len(entry) > slot else None
    if not isinstance(token, CommentToken):
        return None
    inline, newline, rest = token.value.partition("\n")
    if not rest.strip() and not inline.strip():
        return None
    if inline.strip():  # "value  # note\n# next block": the note stays, the block moves
        if not rest.strip():
            return None
        moved = copy.copy(token)
        moved.value = "\n" + rest
        token.value = inline + newline
        return moved
    entry[slot] = None
    return token


def _give_trailing_comment(container: CommentedMap | CommentedSeq, key: Any, token: CommentToken) -> None:
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        _give_trailing_comment(value, last, token)
        return
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    entry[_slot(container)] = token
