"""What a check reports: its status, evidence and fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

# warn: true, and worth a look (more access than this stack grants); it does not fail verify.
Status = Literal["pass", "pending", "fail", "unknown", "warn"]
STATUSES: tuple[Status, ...] = ("pass", "pending", "fail", "unknown", "warn")


@dataclass(frozen=True)
class Check:
    check: str
    scope: str
    status: Status
    evidence: str
    fix: str | None = None
    query: str | None = None  # the page's az command that shows a person the same thing

    def as_document(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "query"}
