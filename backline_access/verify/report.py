"""How `backline-access verify` shows its checks: a table for people, JSON for bots, JUnit XML for CI test views,
and progress while it waits."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO
from xml.etree import ElementTree

from ..config import management_group_of, parse_cluster_resource_id
from .checks import Check, summary

VERIFY_REPORT_VERSION = 1
_STATUS_WORDS = {"pass": "PASS", "pending": "PENDING", "fail": "FAIL", "unknown": "UNKNOWN", "warn": "WARN"}


# A warning (more access than the stack grants, read-only) does not fail verify.
PASSING = frozenset({"pass", "warn"})


def ok(checks: Sequence[Check]) -> bool:
    return all(check.status in PASSING for check in checks)


def verdict(checks: Sequence[Check], interrupted: bool = False) -> str:
    """The one-line outcome every format ends (or heads) with, its counts included."""
    if interrupted:
        word = "interrupted"
    elif not ok(checks):
        word = "not everything passes"
    else:
        word = "all checks pass, with warnings" if any(c.status == "warn" for c in checks) else "all checks pass"
    return f"{word}: {', '.join(f'{n} {status}' for status, n in summary(checks).items())}"


def json_document(checks: Sequence[Check], heading: str | None = None, interrupted: bool = False) -> dict[str, Any]:
    """The stable interface of `--format json` (see README)."""
    return {
        "version": VERIFY_REPORT_VERSION,
        "ok": ok(checks) and not interrupted,
        "verified": heading,
        "interrupted": interrupted,
        "checks": [c.as_document() for c in checks],
    }


def render_json(checks: Sequence[Check], heading: str | None = None, interrupted: bool = False) -> str:
    return json.dumps(json_document(checks, heading, interrupted), indent=2)


INTERRUPTED = "INTERRUPTED (Ctrl-C): the results of the last round that ended; what was pending may pass since."


def render_text(checks: Sequence[Check], heading: str | None = None, interrupted: bool = False, width: int = 80) -> str:
    """One block per check: status and check first, then its scope, evidence and (unless it passes) the fix and
    the command that shows it, indented; prose wrapped at `width` between words, ids and commands never broken."""
    lines = wrap_words(f"Backline access checks: {heading}", width) if heading else []
    if interrupted:
        lines += wrap_words(INTERRUPTED, width)
    if lines:
        lines.append("")
    for check in checks:
        lines.append(f"{_STATUS_WORDS[check.status]:<8} {check.check}")
        lines.append(f"{_INDENT}{check.scope}")
        lines += wrap_words(check.evidence, width, _INDENT)
        if check.status != "pass":
            if check.fix:
                lines += wrap_words(f"fix: {check.fix}", width, _INDENT + "     ", _INDENT)
            if check.query:
                lines.append(f"{_INDENT}see it: {check.query}")  # a command: whole, to copy
    lines += _to_fix(checks, width)
    lines += ["", verdict(checks, interrupted)]
    return "\n".join(lines)


def _to_fix(checks: Sequence[Check], width: int) -> list[str]:
    """What does not pass, last, each with its fix: a long report's end says what to do. A fix that is a command
    stands whole on its own line, to copy; prose is wrapped."""
    open_checks = [c for c in checks if c.status not in PASSING]
    if not open_checks:
        return []
    lines = ["", f"Not passing ({len(open_checks)}), and what to do:"]
    for check in open_checks:
        lines.append(f"  {_STATUS_WORDS[check.status]} {check.check}: {check.scope}")
        if check.fix and check.fix.startswith("az "):
            lines.append(f"    {check.fix}")
        elif check.fix:
            lines += wrap_words(f"fix: {check.fix}", width, "         ", "    ")
    return lines


_INDENT = " " * 9


def wrap_words(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """Text for people wrapped at `width` between words (`first` indents the first line, `indent` the rest); a
    word longer than the line (an id, a URL) stays whole on its own line, and so never breaks when copied."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        start = (indent if first is None else first) if number == 0 else indent
        lines += textwrap.wrap(
            paragraph,
            width=width,
            initial_indent=start,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [start.rstrip()]
    return lines


def render_junit(checks: Sequence[Check], heading: str | None = None, interrupted: bool = False) -> str:
    counts = summary(checks)
    name = "backline-access verify" + (f": {heading}" if heading else "") + (" (interrupted)" if interrupted else "")
    suite = ElementTree.Element(
        "testsuite",
        name=name,
        tests=str(len(checks)),
        failures=str(counts["fail"] + counts["pending"]),
        errors=str(counts["unknown"]),
        skipped="0",
    )
    for check in checks:
        case = ElementTree.SubElement(suite, "testcase", classname=check.check, name=check.scope)
        if check.status == "warn":
            ElementTree.SubElement(case, "system-out").text = f"warning: {check.evidence}"
        if check.status in PASSING:
            continue
        tag = "error" if check.status == "unknown" else "failure"
        detail = ElementTree.SubElement(case, tag, message=check.evidence, type=check.status)
        detail.text = "\n".join(part for part in (f"fix: {check.fix}" if check.fix else "", check.query or "") if part)
    root = ElementTree.Element("testsuites")
    root.append(suite)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


class Progress:
    """While waiting: a live view on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.last: list[Check] | None = None  # the results of the last round that ended (reported on Ctrl-C)
        self.live: Any = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(file=self.stream), transient=True)
            self.live.start()

    def __call__(self, checks: list[Check], seconds_left: float) -> None:
        self.last = checks
        waiting = [c for c in checks if c.status not in PASSING]
        headline = f"{len(waiting)} of {len(checks)} checks not passing yet; {seconds_left:.0f} s left to wait"
        if self.live is not None:
            from rich.text import Text

            # Plain lines wrapped between words at the terminal's width: a table would fold a GUID in two.
            width = max(60, self.live.console.width)
            lines = wrap_words(f"Waiting for Azure: {headline}", width)
            for check in waiting:
                lines.append(f"{check.status:<8} {check.check}")
                lines += wrap_words(_where(check.scope), width, _INDENT)
            self.live.update(Text("\n".join(lines), no_wrap=True, overflow="ignore"))
        else:
            print(f"verify: {headline}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def _where(scope: str) -> str:
    """A scope as the live view shows it: a cluster by its name and resource group (five clusters of one
    subscription must not look alike when the terminal is narrow), a subscription or group by its id."""
    cluster = parse_cluster_resource_id(scope)
    if cluster is not None:
        return f"{cluster.name} (resource group {cluster.resource_group}, subscription {cluster.subscription})"
    group = management_group_of(scope)
    if group is not None:
        return f"management group {group}"
    parts = scope.split("/")
    if len(parts) == 3 and parts[1].lower() == "subscriptions":
        return f"subscription {parts[2]}"  # the id alone is the longest word: a narrow column keeps it whole
    return scope
