"""The plan as plain data: names, scopes and role definition ids, with no Pulumi involved."""

from __future__ import annotations

import uuid

from conftest import SUB_A, SUB_B, TENANT

from backline_access.config.model import parse_config
from backline_access.config.roles import AKS_RBAC_READER, READER, assignment_name
from backline_access.plan import build_plan


def test_assignment_names_are_uuid5_and_differ_by_scope_and_role() -> None:
    reader_a = assignment_name(f"/subscriptions/{SUB_A}", READER)
    assert uuid.UUID(reader_a).version == 5
    assert reader_a != assignment_name(f"/subscriptions/{SUB_B}", READER)
    assert reader_a != assignment_name(f"/subscriptions/{SUB_A}", AKS_RBAC_READER)
    assert reader_a == assignment_name(f"/subscriptions/{SUB_A.upper()}", READER)


def test_plan_orders_readers_then_clusters_by_id_whatever_the_config_order() -> None:
    config = parse_config(
        {
            "tenantId": TENANT,
            "subscriptions": [SUB_B, SUB_A],
            "aks": [
                {
                    "subscription": SUB_A,
                    "clusters": [{"resourceGroup": "rg", "name": "b"}, {"resourceGroup": "rg", "name": "a"}],
                }
            ],
        }
    )
    plan = build_plan(config)
    assert [a.key for a in plan.assignments] == [
        f"reader-{SUB_A}",
        f"reader-{SUB_B}",
        f"aks-rbac-reader-{SUB_A}-rg-a",
        f"aks-rbac-reader-{SUB_A}-rg-b",
    ]
    assert plan.listing_scopes == (f"/subscriptions/{SUB_A}", f"/subscriptions/{SUB_B}")
    assert plan.subscription_ids_csv == f"{SUB_A},{SUB_B}"
    cluster = plan.assignments[2]
    assert cluster.role_definition_id == (
        f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db"
    )
