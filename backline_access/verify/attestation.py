"""`verify --format markdown`: an attestation a person can file. Tenant, date, who verified, what was checked at
which scopes, each result with its evidence and fix, and what the verifier could not see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .checks import Check
from .least_privilege import CHECK as LEAST_PRIVILEGE
from .report import INTERRUPTED, verdict


@dataclass(frozen=True)
class Attestation:
    tenant: str
    verified_by: str  # from the credentials' token: a user's sign-in name or an app's id
    date: str  # ISO 8601, UTC


def render_markdown(
    checks: Sequence[Check], attestation: Attestation, heading: str | None = None, interrupted: bool = False
) -> str:
    lines = [
        "# Backline access attestation",
        "",
        "| | |",
        "| --- | --- |",
        f"| Tenant | `{attestation.tenant}` |",
        f"| Verified | {_cell(heading or '')} |",
        f"| Date (UTC) | {attestation.date} |",
        f"| Verified by | {_cell(attestation.verified_by)} |",
        f"| Result | {verdict(checks, interrupted)} |",
        "",
    ]
    if interrupted:
        lines += [f"> {INTERRUPTED}", ""]
    access = [c for c in checks if c.check != LEAST_PRIVILEGE]
    least = [c for c in checks if c.check == LEAST_PRIVILEGE]
    lines += ["## Scopes checked", ""]
    lines += [f"- `{scope}`" for scope in dict.fromkeys(c.scope for c in access)] + [""]
    lines += _section("Access Backline needs", access)
    lines += _section("Least privilege: what else Backline holds, in Azure and in Entra ID", least)
    unseen = [c for c in checks if c.status == "unknown"]
    lines += ["## What the verifier could not see", ""]
    if unseen:
        lines += [f"- `{c.scope}` ({c.check}): {_cell(c.evidence)}. Fix: {_cell(c.fix or '')}" for c in unseen]
    else:
        lines.append("Nothing: every read was answered.")
    return "\n".join(lines) + "\n"


def _section(title: str, checks: Sequence[Check]) -> list[str]:
    if not checks:
        return []
    rows = [
        f"| {c.status.upper()} | {_cell(c.check)} | `{_cell(c.scope)}` | {_cell(c.evidence)} | "
        f"{_cell(c.fix or '') if c.status != 'pass' else ''} |"
        for c in checks
    ]
    return [
        f"## {title}",
        "",
        "| Status | Check | Scope | Evidence | Fix |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _cell(text: str) -> str:
    """Text in one table cell: a pipe would end the cell, a newline the row."""
    return text.replace("|", "\\|").replace("\n", " ")
