"""Progress while the offline plan runs: a spinner with a count on a terminal (stderr), nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def plan_progress(stream: TextIO | None = None) -> Iterator[Callable[[int], None]]:
    """Yields the callback `run_offline(on_register=...)` takes: resources registered so far."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield lambda registered: None
        return
    from rich.console import Console

    with Console(file=stream).status("Planning offline: running the program under Pulumi's mock engine") as status:

        def update(registered: int) -> None:
            if registered % 25 == 0:
                status.update(f"Planning offline: {registered} resources registered")

        yield update
