"""How the program scales under Pulumi's mock engine: 1,000 subscriptions and 5,000 clusters.

Prints wall time and peak RSS of the real program and of a bare loop that registers the same number of
RoleAssignments with no logic (both under the same mock engine, `run_offline`), their ratios (targets: time
<= 0.7, peak memory <= 1.1), and the growth from half to full size (target <= 2.2x time for 2x input). Each
measurement runs in its own process so RSS is its own. The program tunes its own garbage collector
(`program.tune_garbage_collector`), as it does in a real `pulumi up`; the bare loop keeps CPython's defaults.
`--grant-at-subscription` also plans the same tenant with `all: true, grantAt: subscription` (one AKS RBAC Reader
per subscription instead of one per cluster) and reports its resources, time and memory against the per-cluster
run.

    python benchmarks/plan_scale.py            # full size and half size
    python benchmarks/plan_scale.py --subscriptions 200 --clusters 600
    python benchmarks/plan_scale.py --grant-at-subscription
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not

TENANT = "00000000-0000-0000-0000-000000000000"


def subscription(index: int) -> str:
    return f"{index:08x}-0000-4000-8000-000000000000"


def handed_over(subscriptions: int, clusters: int, at_subscription: bool = False) -> dict[str, str]:
    subs = [subscription(i) for i in range(subscriptions)]
    per_sub: dict[str, list[dict[str, str]]] = {}
    for i in range(clusters):
        per_sub.setdefault(subs[i % subscriptions], []).append({"resourceGroup": f"rg-{i}", "name": f"aks-{i}"})
    aks: list[dict[str, object]] = [{"subscription": sub, "clusters": cl} for sub, cl in per_sub.items()]
    if at_subscription:
        aks = [{"subscription": sub, "all": True, "grantAt": "subscription"} for sub in per_sub]
    return {
        "backline-access:tenantId": TENANT,
        "backline-access:subscriptions": json.dumps(subs),
        "backline-access:aks": json.dumps(aks),
    }


def measure_program(subscriptions: int, clusters: int, at_subscription: bool = False) -> float:
    import backline_access.deploy.program  # noqa: F401 - imports are not what is measured (the bare loop's are not either)
    from backline_access.review.offline import run_offline

    config = handed_over(subscriptions, clusters, at_subscription)
    start = time.perf_counter()
    run = run_offline(config)
    elapsed = time.perf_counter() - start
    assignments = [r for r in run.registrations if r.type == "azure-native:authorization:RoleAssignment"]
    per_subscription = min(subscriptions, clusters)  # one AKS grant per subscription that has clusters
    assert len(assignments) == subscriptions + (per_subscription if at_subscription else clusters), len(assignments)
    print(json.dumps({"resources": len(run.registrations)}))
    return elapsed


class _BareLoop:
    """Registers `count` RoleAssignments with constant inputs: no config, parent, provider or checks."""

    def __init__(self, count: int) -> None:
        from pulumi_azure_native import authorization

        made = [
            authorization.RoleAssignment(
                f"ra-{i}",
                principal_id="p",
                principal_type="ServicePrincipal",
                role_definition_id="r",
                scope=f"/subscriptions/{i}",
                role_assignment_name=f"n-{i}",
            )
            for i in range(count)
        ]
        self.ids = [m.id for m in made]

    def outputs(self) -> dict[str, Any]:
        import pulumi

        return {"ids": pulumi.Output.all(*self.ids)}


def measure_bare_loop(subscriptions: int, clusters: int) -> float:
    # The same mock engine as the program's run (run_offline), so only the program's own work differs.
    import pulumi_azure_native.authorization  # noqa: F401 - imports are not measured

    from backline_access.review.offline import run_offline

    start = time.perf_counter()
    run_offline({}, program=lambda: _BareLoop(subscriptions + clusters))
    return time.perf_counter() - start


def child(case: str, subscriptions: int, clusters: int) -> None:
    if case == "program":
        elapsed = measure_program(subscriptions, clusters)
    elif case == "at-subscription":
        elapsed = measure_program(subscriptions, clusters, at_subscription=True)
    else:
        elapsed = measure_bare_loop(subscriptions, clusters)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_rss_mib": peak_mib}))


def run_child(case: str, subscriptions: int, clusters: int, repeat: int) -> dict[str, float]:
    """The fastest of `repeat` runs, each in a fresh process (a shared machine's noise only slows runs down)."""
    runs = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--child", case]
        done = subprocess.run(
            [*command, "--subscriptions", str(subscriptions), "--clusters", str(clusters)],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = [json.loads(line) for line in done.stdout.strip().splitlines() if line.startswith("{")]
        runs.append({key: value for line in lines for key, value in line.items()})
    return min(runs, key=lambda run: float(run["seconds"]))


def report(subscriptions: int, clusters: int, repeat: int) -> float:
    program = run_child("program", subscriptions, clusters, repeat)
    bare = run_child("bare", subscriptions, clusters, repeat)
    ratio = program["seconds"] / bare["seconds"]
    memory = program["peak_rss_mib"] / bare["peak_rss_mib"]
    print(
        f"{subscriptions:>5} subscriptions, {clusters:>5} clusters: program {program['seconds']:.2f} s "
        f"(peak RSS {program['peak_rss_mib']:.0f} MiB), bare loop {bare['seconds']:.2f} s "
        f"(peak RSS {bare['peak_rss_mib']:.0f} MiB); time ratio {ratio:.2f} (target <= 0.7), "
        f"memory ratio {memory:.2f} (target <= 1.1)"
    )
    return program["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--child", choices=["program", "bare", "at-subscription"])
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of N runs of each")
    parser.add_argument("--grant-at-subscription", action="store_true", help="compare grantAt: subscription")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.subscriptions, args.clusters)
        return
    if args.grant_at_subscription:
        per_cluster = run_child("program", args.subscriptions, args.clusters, args.repeat)
        broad = run_child("at-subscription", args.subscriptions, args.clusters, args.repeat)
        print(
            f"{args.subscriptions} subscriptions, {args.clusters} clusters: per cluster {per_cluster['resources']:.0f} "
            f"resources, {per_cluster['seconds']:.2f} s, peak RSS {per_cluster['peak_rss_mib']:.0f} MiB; grantAt: "
            f"subscription {broad['resources']:.0f} resources, {broad['seconds']:.2f} s, peak RSS "
            f"{broad['peak_rss_mib']:.0f} MiB; ratios: resources {broad['resources'] / per_cluster['resources']:.2f}, "
            f"time {broad['seconds'] / per_cluster['seconds']:.2f}, memory "
            f"{broad['peak_rss_mib'] / per_cluster['peak_rss_mib']:.2f}"
        )
        return
    half = report(args.subscriptions // 2, args.clusters // 2, args.repeat)
    full = report(args.subscriptions, args.clusters, args.repeat)
    print(f"growth: 2x input -> {full / half:.2f}x time (target <= 2.2)")


if __name__ == "__main__":
    main()
