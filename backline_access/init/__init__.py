"""`backline-access init`: the script's flags and Azure's answers turned into a stack file, merged in place."""

from .flow import Terminal, run_init
from .onboarding import Request

__all__ = [
    "Request",
    "Terminal",
    "run_init",
]
