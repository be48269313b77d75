"""`backline-access init`: the script's flags and Azure's answers turned into a stack file, merged in place."""

from .flow import Terminal, run_init
from .onboarding import Request
from .stack_file_edit import unwritable_because, write_atomically

__all__ = [
    "Request",
    "Terminal",
    "run_init",
    "unwritable_because",
    "write_atomically",
]
