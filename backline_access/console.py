"""The `backline-access` command's entry point. It answers Ctrl-C from the first moment: loading Pulumi and the
Azure SDKs takes about a second, and a KeyboardInterrupt there would end in a traceback. Each command then puts
its own answer in place (`cli._CtrlC`)."""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, _while_starting)
    from .cli import main as run_command

    run_command()


def _while_starting(signum: int, frame: object) -> None:
    sys.stderr.write("\nInterrupted (Ctrl-C) while starting: nothing was read, written or changed.\n")
    sys.stderr.flush()
    os._exit(130)
