"""How `backline-access verify` shows its checks: a table for people, JSON for bots, JUnit XML for CI test views,
and progress while it waits."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO
from xml.etree import ElementTree

from .checks import Check, summary

VERIFY_REPORT_VERSION = 1
_STATUS_WORDS = {"pass": "PASS", "pending": "PENDING", "fail": "FAIL", "unknown": "UNKNOWN"}


def ok(checks: Sequence[Check]) -> bool:
    return all(check.status == "pass" for check in checks)


def json_document(checks: Sequence[Check]) -> dict[str, Any]:
    """The stable interface of `--format json` (see README)."""
    return {"version": VERIFY_REPORT_VERSION, "ok": ok(checks), "checks": [c.as_document() for c in checks]}


def render_json(checks: Sequence[Check]) -> str:
    return json.dumps(json_document(checks), indent=2)


def render_text(checks: Sequence[Check]) -> str:
    counts = summary(checks)
    rows = [("STATUS", "CHECK", "SCOPE", "EVIDENCE")]
    rows += [(_STATUS_WORDS[c.status], c.check, c.scope, c.evidence) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
        check = checks[index - 1] if index else None
        if check is not None and check.status != "pass":
            indent = " " * (widths[0] + 2)
            if check.fix:
                lines.append(f"{indent}fix:        {check.fix}")
            if check.query:
                lines.append(f"{indent}see it:     {check.query}")
    verdict = "all checks pass" if ok(checks) else "not everything passes"
    lines += ["", f"{verdict}: {', '.join(f'{n} {status}' for status, n in counts.items())}"]
    return "\n".join(lines)


def render_junit(checks: Sequence[Check]) -> str:
    counts = summary(checks)
    suite = ElementTree.Element(
        "testsuite",
        name="backline-access verify",
        tests=str(len(checks)),
        failures=str(counts["fail"] + counts["pending"]),
        errors=str(counts["unknown"]),
        skipped="0",
    )
    for check in checks:
        case = ElementTree.SubElement(suite, "testcase", classname=check.check, name=check.scope)
        if check.status == "pass":
            continue
        tag = "error" if check.status == "unknown" else "failure"
        detail = ElementTree.SubElement(case, tag, message=check.evidence, type=check.status)
        detail.text = "\n".join(part for part in (f"fix: {check.fix}" if check.fix else "", check.query or "") if part)
    root = ElementTree.Element("testsuites")
    root.append(suite)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


class Progress:
    """While waiting: a live view on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live: Any = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(file=self.stream), transient=True)
            self.live.start()

    def __call__(self, checks: list[Check], seconds_left: float) -> None:
        waiting = [c for c in checks if c.status != "pass"]
        headline = f"{len(waiting)} of {len(checks)} checks not passing yet; {seconds_left:.0f} s left to wait"
        if self.live is not None:
            from rich.table import Table

            table = Table(title=f"Waiting for Azure: {headline}")
            for column in ("status", "check", "scope"):
                table.add_column(column)
            for check in waiting:
                table.add_row(check.status, check.check, check.scope)
            self.live.update(table)
        else:
            print(f"verify: {headline}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
