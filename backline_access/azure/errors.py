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
    request_ids: str = ""  # Azure's ids of the request, for a support ticket

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
        text = f"HTTP {self.status} {self.code}: {self.message}" if self.status else f"{self.code}: {self.message}"
        return f"{text} ({self.request_ids})" if self.request_ids else text


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


class SignInError(Exception):
    """The credentials could not get a token for `audience`. Not an answer about any scope, so never one of a
    read's failures: it reaches the command's edge, which says "cannot sign in" with the fix."""

    def __init__(self, audience: str, message: str, unavailable: bool = False, az_missing: bool = False) -> None:
        super().__init__(message)
        self.audience = audience
        self.message = message
        # No credentials at all (azure-identity's CredentialUnavailableError: no az login, no ARM_* secret), as
        # opposed to credentials that were refused.
        self.unavailable = unavailable
        # The Azure CLI's login was the way in, and there is no `az` on PATH: `az login` alone is no fix.
        self.az_missing = az_missing


CORRELATION_HEADERS = ("x-ms-correlation-request-id", "x-ms-request-id", "request-id", "client-request-id")


def request_ids(headers: Mapping[str, str]) -> str:
    """The ids Azure gives a request (ARM: correlation and request id; Graph: request-id), as `name: value`."""
    lowered = {key.lower(): value for key, value in headers.items()}
    return ", ".join(f"{name}: {lowered[name]}" for name in CORRELATION_HEADERS if lowered.get(name))


def failure_from_body(scope: str, status: int, body: object, ids: str = "") -> AzureFailure:
    """ARM's `{"error": {"code", "message", "details"}}` (Graph and Resource Graph use the same envelope;
    Resource Graph puts the cause in `details`)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        causes = "; ".join(f"{d.get('code', '')}: {d.get('message', '')}".strip(": ") for d in details)
        if causes:
            message = f"{message} [{causes}]" if message else causes
        return AzureFailure(scope, status, str(error.get("code") or f"HTTP{status}"), message, ids)
    return AzureFailure(scope, status, f"HTTP{status}", str(body)[:300] if body else "", ids)
