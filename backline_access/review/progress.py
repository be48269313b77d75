"""Progress while the offline plan runs: a spinner with a count on a terminal (stderr), nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class PlanProgress:
    """The callback `run_offline(on_register=...)` takes (resources registered so far), and `stop()`, which a
    Ctrl-C handler calls before it writes: the spinner then gives the terminal (and its cursor) back."""

    def __init__(self, status: Any = None) -> None:
        self.status = status

    def __call__(self, registered: int) -> None:
        if self.status is not None and registered % 25 == 0:
            self.status.update(f"Planning offline: {registered} resources registered")

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


@contextmanager
def plan_progress(stream: TextIO | None = None) -> Iterator[PlanProgress]:
    stream = stream or sys.stderr
    if not stream.isatty():
        yield PlanProgress()
        return
    from rich.console import Console

    with Console(file=stream).status("Planning offline: running the program under Pulumi's mock engine") as status:
        yield PlanProgress(status)
