"""The checks after a grant: the product page's verification queries through the read side, and their reports."""

from .attestation import Attestation
from .attestation import render_markdown as render_attestation
from .checks import plan_as_azure_has_it, tenant_problem, verify_after_update, verify_until
from .model import Check
from .report import Progress, ok, render_json, render_junit, render_text, wrap_words

__all__ = [
    "Attestation",
    "Check",
    "Progress",
    "ok",
    "plan_as_azure_has_it",
    "render_attestation",
    "render_json",
    "render_junit",
    "render_text",
    "tenant_problem",
    "verify_after_update",
    "verify_until",
    "wrap_words",
]
