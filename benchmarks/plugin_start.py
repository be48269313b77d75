"""How long the component package's plugin takes to start, and its peak memory, beside a bare import of
pulumi_azure_native (which the plugin needs, and which dominates both).

The plugin is started as the python language host starts it (`python provider/ <engine address>`); the time runs
from the process start to the port on its stdout, when the engine may call it. Peak memory is the process's
high-water mark of resident memory (VmHWM in /proc/<pid>/status), read while it is still alive. Each is the median
of a few runs (the first warms the file cache and is left out).

    python benchmarks/plugin_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "provider"
BARE_IMPORT = "import pulumi_azure_native, sys; sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read()"


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def measure(command: list[str]) -> tuple[float, float]:
    """Seconds from start to the first line on stdout, and the peak resident memory then, in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    first_line = process.stdout.readline()
    seconds = time.perf_counter() - started
    memory = peak_mib(process.pid)
    process.terminate()
    process.wait(timeout=10)
    if not first_line.strip():
        raise RuntimeError(f"{command} printed nothing")
    return seconds, memory


def median_of(command: list[str], runs: int) -> tuple[float, float]:
    measure(command)  # warm the file cache
    results = [measure(command) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    # The engine address is only dialled when the plugin logs, which starting does not.
    plugin_seconds, plugin_mib = median_of([sys.executable, str(PLUGIN_DIR), "127.0.0.1:1"], runs)
    bare_seconds, bare_mib = median_of([sys.executable, "-c", BARE_IMPORT], runs)
    print(f"plugin start to port:          {plugin_seconds:6.2f} s   peak {plugin_mib:7.1f} MiB")
    print(f"import pulumi_azure_native:    {bare_seconds:6.2f} s   peak {bare_mib:7.1f} MiB")
    print(f"ratio (plugin / bare import):  {plugin_seconds / bare_seconds:6.2f}     {plugin_mib / bare_mib:7.2f}")


if __name__ == "__main__":
    main()
