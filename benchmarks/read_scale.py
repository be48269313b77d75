"""How the AKS preflight's reads scale: 1,000 subscriptions and 5,000 clusters, 50 ms latency per call.

Starts the fake Azure (tests/fake_azure) in its own process, signs in with a client secret as a pipeline
would, and reads every cluster the way the program's preflight does (one paged Resource Graph query, ARM lists
only where it cannot answer), then every cluster of every subscription as `all: true` does (the query merged
with one ARM list per subscription). Beside it, the baseline the bash script and the foundation had: one read per
cluster, one after another; measured on a sample (--baseline-sample) and extrapolated, or in full with
--baseline-all. Targets: under 10 s, and at least 20 times faster than the baseline.

    python benchmarks/read_scale.py
    python benchmarks/read_scale.py --subscriptions 200 --clusters 1000 --latency 0.02
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout, installed or not

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT, SECRET = "benchmark-client", "benchmark-secret"

if TYPE_CHECKING:
    from backline_access.azure import EstateReader
    from backline_access.config.clouds import Cloud


def subscription(index: int) -> str:
    return f"{index:08x}-0000-4000-8000-00000000000b"


def write_estate(path: Path, subscriptions: int, clusters: int) -> list[tuple[str, str, str]]:
    subs = [subscription(i) for i in range(subscriptions)]
    chosen = [(subs[i % subscriptions], f"rg-{i % 7}", f"aks-{i}") for i in range(clusters)]
    estate = {
        "tenant": TENANT,
        "subscriptions": subs,
        "clusters": [{"subscription": s, "resourceGroup": g, "name": n} for s, g, n in chosen],
        "clients": {CLIENT: SECRET},
    }
    path.write_text(json.dumps(estate), encoding="utf-8")
    return chosen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_fake(estate: Path, latency: float, graph_down: bool) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_azure", "--estate", str(estate), "--port", str(port)]
        + ["--latency", str(latency)]
        + (["--resource-graph-down"] if graph_down else []),
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    fake.stdout.readline()
    exports = fake.stdout.readline().split()  # export ARM_METADATA_HOSTNAME=... REQUESTS_CA_BUNDLE=... ...
    settings = dict(item.split("=", 1) for item in exports[1:])
    os.environ["REQUESTS_CA_BUNDLE"] = settings["REQUESTS_CA_BUNDLE"]  # this process trusts the fake's CA
    return fake, settings["ARM_METADATA_HOSTNAME"], settings["REQUESTS_CA_BUNDLE"]


def signed_in_reader(host: str) -> tuple[EstateReader, Cloud]:
    """The read side on the fake's cloud, and the cloud; signed in with the benchmark's client secret before
    anything is measured (inside Pulumi the token comes from the provider)."""
    from backline_access.azure import reader_from_environment, resolve_cloud
    from backline_access.config.clouds import CloudChoice

    cloud = resolve_cloud(CloudChoice(metadata_host=host))
    reader = reader_from_environment({"ARM_CLIENT_ID": CLIENT, "ARM_CLIENT_SECRET": SECRET}, cloud, TENANT)
    reader.credentials_tenant()
    return reader, cloud


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every answer")
    parser.add_argument("--baseline-sample", type=int, default=200)
    parser.add_argument("--baseline-all", action="store_true")
    parser.add_argument(
        "--resource-graph-down", action="store_true", help="the fallback: every subscription listed in ARM instead"
    )
    args = parser.parse_args()

    from backline_access.config.identifiers import ClusterId

    folder = Path(tempfile.mkdtemp())
    chosen = write_estate(folder / "estate.json", args.subscriptions, args.clusters)
    wanted = [ClusterId.of(*cluster) for cluster in chosen]
    fake, host, _ = start_fake(folder / "estate.json", args.latency, args.resource_graph_down)
    try:
        reader, _ = signed_in_reader(host)
        signed_in = reader.calls

        start = time.perf_counter()
        states = reader.read_clusters(wanted)
        preflight = time.perf_counter() - start
        calls = reader.calls - signed_in
        assert all(state.found is not None for state in states), "the fake lost a cluster"

        # all: true on every subscription: Resource Graph merged with one ARM list per subscription.
        before = reader.calls
        start = time.perf_counter()
        inventory = reader.clusters_in(sorted({cluster.subscription_id for cluster in wanted}))
        every = time.perf_counter() - start
        every_calls = reader.calls - before
        assert not inventory.failures, inventory.failures
        found = sum(len(infos) for infos in inventory.clusters.values())

        sample = wanted if args.baseline_all else wanted[: args.baseline_sample]
        start = time.perf_counter()
        for cluster in sample:
            reader.cluster(cluster)
        sampled = time.perf_counter() - start
        baseline = sampled / len(sample) * len(wanted)
    finally:
        fake.terminate()
        fake.wait()

    how = "measured" if args.baseline_all else f"extrapolated from {len(sample)} reads in {sampled:.2f} s"
    print(
        f"{args.subscriptions} subscriptions, {args.clusters} clusters, {args.latency * 1000:.0f} ms per call"
        f"{', Resource Graph down' if args.resource_graph_down else ''}:\n"
        f"  preflight: {preflight:.2f} s, {calls} calls (target: under 10 s; calls grow with subscriptions at most)\n"
        f"  all: true everywhere: {found} clusters in {every:.2f} s, {every_calls} calls "
        "(target: under 10 s; one query and one ARM list per subscription)\n"
        f"  baseline, one read per cluster in sequence: {baseline:.1f} s, {len(wanted)} calls ({how})\n"
        f"  speed-up: {baseline / preflight:.0f}x (target: at least 20x)"
    )


if __name__ == "__main__":
    main()
