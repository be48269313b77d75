"""How the post-deploy checks scale: 1,000 subscriptions and 5,000 clusters, everything granted, 50 ms per call.

Starts the fake Azure (tests/fake_azure) in its own process with a fully onboarded estate, signs in with a client
secret as `backline-access verify` does, and runs every check once. Beside it, the product page's queries run one
by one (`az role assignment list --assignee --scope` per scope, `az aks show` per cluster), measured on a sample
and extrapolated. Targets: under 15 s, and calls that grow with subscriptions, not with clusters.
`--grant-at-subscription` grants AKS RBAC Reader once per subscription (`all: true, grantAt: subscription`) and
checks every cluster below it as `backline-access verify` does (its clusters read first, then each checked).

    python benchmarks/verify_scale.py
    python benchmarks/verify_scale.py --subscriptions 200 --clusters 1000
    python benchmarks/verify_scale.py --grant-at-subscription
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from read_scale import CLIENT, SECRET, TENANT, signed_in_reader, start_fake, subscription  # noqa: E402

SP = "99999999-9999-4999-8999-999999999999"
APP = "3fc75f55-e53f-4950-9127-665106cded58"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AKS_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"


def write_estate(path: Path, subscriptions: int, clusters: int, at_subscription: bool = False) -> dict[str, object]:
    subs = [subscription(i) for i in range(subscriptions)]
    chosen = [(subs[i % subscriptions], f"rg-{i % 7}", f"aks-{i}") for i in range(clusters)]

    def cluster_id(s: str, g: str, n: str) -> str:
        return f"/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerService/managedClusters/{n}"

    def assignment(name: str, scope: str, guid: str) -> dict[str, str]:
        sub = scope.split("/")[2]
        role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        return {"name": name, "scope": scope, "roleDefinitionId": role, "principalId": SP}

    estate = {
        "tenant": TENANT,
        "subscriptions": subs,
        "clusters": [{"subscription": s, "resourceGroup": g, "name": n} for s, g, n in chosen],
        "servicePrincipals": {APP: SP},
        "roleAssignments": [assignment(f"r-{i}", f"/subscriptions/{s}", READER) for i, s in enumerate(subs)]
        + (
            [assignment(f"k-{i}", f"/subscriptions/{s}", AKS_READER) for i, s in enumerate(subs)]
            if at_subscription
            else [assignment(f"k-{i}", cluster_id(*c), AKS_READER) for i, c in enumerate(chosen)]
        ),
        "clients": {CLIENT: SECRET},
    }
    path.write_text(json.dumps(estate), encoding="utf-8")
    with_clusters = sorted({s for s, _, _ in chosen})
    aks: list[dict[str, object]] = [
        {"subscription": s, "clusters": [{"resourceGroup": g, "name": n} for s2, g, n in chosen if s2 == s]}
        for s in with_clusters
    ]
    if at_subscription:
        aks = [{"subscription": s, "all": True, "grantAt": "subscription"} for s in with_clusters]
    return {"tenantId": TENANT, "subscriptions": subs, "aks": aks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--baseline-sample", type=int, default=100, help="page queries of each kind to time")
    parser.add_argument("--grant-at-subscription", action="store_true", help="one AKS grant per subscription")
    args = parser.parse_args()

    from backline_access.config.model import AccessConfig
    from backline_access.plan import build_plan
    from backline_access.verify import plan_as_azure_has_it
    from backline_access.verify.checks import summary, verify

    folder = Path(tempfile.mkdtemp())
    at_subscription = args.grant_at_subscription
    config = write_estate(folder / "estate.json", args.subscriptions, args.clusters, at_subscription)
    access = AccessConfig.model_validate(config)
    plan = build_plan(access)
    fake, host, _ = start_fake(folder / "estate.json", args.latency, graph_down=False)
    try:
        reader, cloud = signed_in_reader(host)
        before = reader.calls
        start = time.perf_counter()
        if at_subscription:  # as verify does: the clusters below each grant, read first
            plan = plan_as_azure_has_it(access, reader)
            assert len(plan.covered_clusters) == args.clusters, len(plan.covered_clusters)
        checks = verify(plan, reader, cloud)
        elapsed = time.perf_counter() - start
        calls = reader.calls - before
        counts = summary(checks)
        assert counts["pass"] == len(checks), counts

        scopes = [f"/subscriptions/{s}" for s in plan.reader_subscriptions][: args.baseline_sample]
        clusters = list(plan.clusters or plan.covered_clusters)[: args.baseline_sample]
        start = time.perf_counter()
        for scope in scopes:
            filter_ = {"api-version": "2022-04-01", "$filter": f"principalId eq '{SP}'"}
            reader.arm.get(f"{scope}/providers/Microsoft.Authorization/roleAssignments", filter_)
        for cluster in clusters:
            reader.arm.get(cluster.resource_id + "/providers/Microsoft.Authorization/roleAssignments", filter_)
            reader.cluster(cluster)
        sampled = time.perf_counter() - start
        per_call = sampled / (len(scopes) + 2 * len(clusters))
        page_calls = len(plan.reader_subscriptions) + 2 * len(plan.clusters or plan.covered_clusters)
    finally:
        fake.terminate()
        fake.wait()

    print(
        f"{args.subscriptions} subscriptions, {args.clusters} clusters, {args.latency * 1000:.0f} ms per call, "
        f"everything granted{' (AKS RBAC Reader at each subscription)' if at_subscription else ''}:\n"
        f"  checks: {len(checks)} ({counts['pass']} pass) in {elapsed:.2f} s, {calls} calls "
        "(target: under 15 s; calls grow with subscriptions, not with clusters)\n"
        f"  baseline, the page's queries one by one: {per_call * page_calls:.0f} s, {page_calls} calls "
        f"(extrapolated from {len(scopes) + 2 * len(clusters)} calls in {sampled:.1f} s)"
    )


if __name__ == "__main__":
    main()
