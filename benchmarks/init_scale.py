"""How `backline-access init --from-existing` scales: a tenant of 1,000 subscriptions and 5,000 clusters where the
bash script granted half of Backline's access, 50 ms per call at the fake Azure.

Runs init the way the command does (sign-in, service principal lookup, the subscriptions the credentials see,
one role assignment listing per subscription, the merge, the validation, the atomic write), then runs it a
second time, which must change nothing. Prints wall time and calls of each. Target: calls grow with
subscriptions, never with clusters.

    python benchmarks/init_scale.py
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from adoption_scale import keep_half_as_the_script_left_them  # noqa: E402
from read_scale import TENANT, signed_in_reader, start_fake  # noqa: E402
from verify_scale import write_estate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    from backline_access.azure import EstateReader
    from backline_access.init.flow import Terminal, run_init
    from backline_access.init.onboarding import Present, Request

    folder = Path(tempfile.mkdtemp())
    write_estate(folder / "estate.json", args.subscriptions, args.clusters)
    existing = keep_half_as_the_script_left_them(folder / "estate.json")
    project = folder / "infra"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    fake, host, _ = start_fake(folder / "estate.json", args.latency, graph_down=False)
    readers: list[EstateReader] = []

    def signed_in(environ: object, present: Present, tenant: str | None) -> tuple[EstateReader, str]:
        reader, _ = signed_in_reader(host)
        readers.append(reader)
        return reader, TENANT

    def run() -> tuple[float, int, str]:
        out = io.StringIO()
        terminal = Terminal(False, lambda: "", out, out)
        start = time.perf_counter()
        code = run_init("prod", TENANT, Request(from_existing=True), False, True, {}, terminal, project, signed_in)
        elapsed = time.perf_counter() - start
        assert code == 0, out.getvalue()[-2000:]
        return elapsed, readers[-1].calls, out.getvalue()

    try:
        first, first_calls, said = run()
        second, second_calls, said_again = run()
    finally:
        fake.terminate()
        fake.wait()

    written = project / "Pulumi.prod.yaml"
    print(
        f"{args.subscriptions} subscriptions, {args.clusters} clusters, {existing} assignments made by the script, "
        f"{args.latency * 1000:.0f} ms per call:\n"
        f"  init --from-existing: {first:.2f} s, {first_calls} calls; wrote {written.stat().st_size:,} bytes\n"
        f"  the same again: {second:.2f} s, {second_calls} calls, "
        f"{'nothing to change' if 'nothing to change' in said_again else 'CHANGED THE FILE'}"
    )
    assert "nothing to change" in said_again and "to take over" in said


if __name__ == "__main__":
    main()
