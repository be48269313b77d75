"""Azure's answers that are not data: classified by the error code ARM or Graph sends, never by digits in a
message (a resource group may well be called `rg-404`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NOT_FOUND_CODES = frozenset({"ResourceNotFound", "ResourceGroupNotFound", "NotFound", "ParentResourceNotFound"})
SUBSCRIPTION_NOT_FOUND_CODES = frozenset({"SubscriptionNotFound", "InvalidSubscriptionId"})
FORBIDDEN_CODES = frozenset({"AuthorizationFailed", "Authorization_RequestDenied", "LinkedAuthorizationFailed"})


@dataclass(frozen=True)
class AzureFailure:
    """One read Azure refused or could not answer."""

    scope: str
    status: int
    code: str
    message: str

    @property
    def not_found(self) -> bool:
        return self.code in NOT_FOUND_CODES

    @property
    def subscription_not_found(self) -> bool:
        return self.code in SUBSCRIPTION_NOT_FOUND_CODES

    @property
    def forbidden(self) -> bool:
        return self.status == 403 or self.code in FORBIDDEN_CODES

    def describe(self) -> str:
        return f"HTTP {self.status} {self.code}: {self.message}" if self.status else f"{self.code}: {self.message}"


def unreadable_scopes(failures: Mapping[str, AzureFailure], reader: str, in_subscriptions: bool = False) -> str:
    """One line and its fix per scope that could not be read. `failures` is keyed by scope, or by subscription id
    (`in_subscriptions`); `reader` names who needs read access there ("the deployer")."""
    lines = []
    for key, failure in sorted(failures.items()):
        scope = f"/subscriptions/{key}" if in_subscriptions else key
        lines.append(f"  - {scope}: {failure.describe()}\n    fix: give {reader} Reader (or more) on {scope}")
    return "\n".join(lines)


class AzureReadError(Exception):
    def __init__(self, failure: AzureFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def failure_from_body(scope: str, status: int, body: object) -> AzureFailure:
    """ARM's `{"error": {"code", "message"}}` (Graph and Resource Graph use the same envelope)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return AzureFailure(scope, status, str(error.get("code") or f"HTTP{status}"), str(error.get("message") or ""))
    return AzureFailure(scope, status, f"HTTP{status}", str(body)[:300] if body else "")
