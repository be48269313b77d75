"""The checks after a grant: the product page's verification queries through the read side, and their reports."""

from .checks import tenant_problem, verify_after_update, verify_until
from .report import Progress, ok, render_json, render_junit, render_text, wrap_words

__all__ = [
    "Progress",
    "ok",
    "render_json",
    "render_junit",
    "render_text",
    "tenant_problem",
    "verify_after_update",
    "verify_until",
    "wrap_words",
]
