"""How the adoption look-ups scale: 1,000 subscriptions and 5,000 clusters, half of the grants already made by
the bash script (random names, `/resourcegroups/` scopes), 50 ms per call at the fake Azure.

Reads Backline's role assignments the way the program does before registering anything (one listing per
subscription) and decides each grant's declaration against the stack's state (`adopt`): on a first run (the state
holds nothing; the script's half is imported) and on a second one (the state holds all of them, under a renamed
component, so each is matched by what it grants and aliased). Beside it, the script's way: one
`az role assignment list --scope` per scope, one after another (measured on a sample and extrapolated). Targets:
under 10 s, and at most one call per subscription.

    python benchmarks/adoption_scale.py
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

from read_scale import signed_in_reader, start_fake  # noqa: E402
from verify_scale import SP, write_estate  # noqa: E402


def keep_half_as_the_script_left_them(path: Path) -> int:
    """Drop every other assignment; rename the rest as the script would and lower-case `resourceGroups`."""
    estate = json.loads(path.read_text(encoding="utf-8"))
    kept = []
    for index, assignment in enumerate(estate["roleAssignments"]):
        if index % 2:
            continue
        assignment["name"] = f"{index:08x}-5c71-4000-8000-000000000000"
        assignment["scope"] = assignment["scope"].replace("/resourceGroups/", "/resourcegroups/")
        kept.append(assignment)
    estate["roleAssignments"] = kept
    path.write_text(json.dumps(estate), encoding="utf-8")
    return len(kept)


def after_the_first_run(plan: object, first: object) -> tuple[object, dict[str, list[object]]]:
    """The state after a first run, as the engine answers it, with the component since renamed (every grant under
    `old-<key>`, with ARM's outputs), and what Azure then lists: the script's half adopted, the rest created."""
    from backline_access.azure import RoleAssignmentInfo
    from backline_access.deploy.stack_state import COMPONENT_TYPE, ROLE_ASSIGNMENT_TYPE, StackState, state_resources

    parent = f"urn:pulumi:dev::backline-access::{COMPONENT_TYPE}"
    resources = {f"{parent}::old": {"type": COMPONENT_TYPE, "outputs": {"tenantId": "t"}}}
    listed: dict[str, list[object]] = {}
    for planned in plan.assignments:  # type: ignore[attr-defined]
        adopted = first.declarations.get(planned)  # type: ignore[attr-defined]
        grant = adopted.existing if adopted else None
        name, scope = (grant.name, grant.scope) if grant else (planned.name, planned.scope)
        resources[f"{parent}${ROLE_ASSIGNMENT_TYPE}::old-{planned.key}"] = {
            "type": ROLE_ASSIGNMENT_TYPE,
            "outputs": {
                "name": name,
                "scope": scope,
                "roleDefinitionId": planned.role_definition_id,
                "principalId": SP,
                "principalType": "ServicePrincipal",
            },
        }
        assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        info = RoleAssignmentInfo(assignment_id, name, scope, planned.role_definition_id, SP, "ServicePrincipal")
        listed.setdefault(planned.listed_at, []).append(info)
    return StackState(state_resources({"outputs": resources})), listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--baseline-sample", type=int, default=200)
    args = parser.parse_args()

    from backline_access.config.model import AccessConfig
    from backline_access.deploy.adoption import adopt, moved_from
    from backline_access.deploy.stack_state import StackState
    from backline_access.plan import build_plan

    folder = Path(tempfile.mkdtemp())
    config = write_estate(folder / "estate.json", args.subscriptions, args.clusters)
    existing = keep_half_as_the_script_left_them(folder / "estate.json")
    plan = build_plan(AccessConfig.model_validate(config))
    fake, host, _ = start_fake(folder / "estate.json", args.latency, graph_down=False)
    try:
        reader, _ = signed_in_reader(host)
        before = reader.calls
        start = time.perf_counter()
        inventory = reader.role_assignments(SP, plan.listing_scopes)
        first = adopt(plan, SP, inventory.assignments, StackState())
        elapsed = time.perf_counter() - start
        calls = reader.calls - before
        adopted = [d for d in first.declarations.values() if d.import_id]

        state, listed = after_the_first_run(plan, first)
        start = time.perf_counter()
        second = adopt(plan, SP, listed, state)  # type: ignore[arg-type]
        moved = moved_from(state, plan)
        second_run = time.perf_counter() - start

        scopes = [a.scope for a in plan.assignments][: args.baseline_sample]
        filter_ = {"api-version": "2022-04-01", "$filter": f"principalId eq '{SP}'"}
        start = time.perf_counter()
        for scope in scopes:
            reader.arm.get(f"{scope}/providers/Microsoft.Authorization/roleAssignments", filter_)
        baseline = (time.perf_counter() - start) / len(scopes) * len(plan.assignments)
    finally:
        fake.terminate()
        fake.wait()

    print(
        f"{args.subscriptions} subscriptions, {args.clusters} clusters, {len(plan.assignments)} grants planned, "
        f"{existing} made by the script, {args.latency * 1000:.0f} ms per call:\n"
        f"  adoption look-ups: {len(adopted)} adopted in {elapsed:.2f} s, {calls} calls "
        "(target: under 10 s, at most one call per subscription)\n"
        f"  second run, state of {len(state.resources)} resources under a renamed component: "
        f"{sum(1 for d in second.declarations.values() if d.alias)} grants matched and aliased, "
        f"{len(second.drift)} missing in Azure, component alias {'found' if moved else 'NOT found'}, "
        f"in {second_run:.2f} s (no calls)\n"
        f"  baseline, one listing per scope in sequence: {baseline:.0f} s, {len(plan.assignments)} calls "
        f"(extrapolated from {len(scopes)} calls)"
    )
    assert len(adopted) == existing, (len(adopted), existing)
    assert moved is not None and all(d.alias for d in second.declarations.values()) and not second.drift


if __name__ == "__main__":
    main()
