"""The offline plan for reviewers: the program under a mock engine, and its text, JSON, markdown and az formats."""

from .formats import render_az, render_markdown
from .offline import run_offline
from .progress import plan_progress
from .report import plan_document, render_text

__all__ = [
    "plan_document",
    "plan_progress",
    "render_az",
    "render_markdown",
    "render_text",
    "run_offline",
]
