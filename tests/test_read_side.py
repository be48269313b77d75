"""The Azure read side over real HTTPS against the fake Azure on loopback: every read with paging, faults,
and what it costs in calls."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fake_azure import BACKLINE_APP_ID, GITHUB_OIDC_PATH, GITHUB_REQUEST_TOKEN, Assignment, Cluster, FakeAzureServer
from fake_azure import Estate as FakeEstate

from backline_access.azure import AzureReadError, EstateReader, reader_from_environment, reader_from_provider_token
from backline_access.azure.identity import resolve_cloud
from backline_access.azure.transport import ReadRetryPolicy
from backline_access.config.clouds import CloudChoice
from backline_access.config.identifiers import ClusterId

Serve = Callable[..., FakeAzureServer]
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SP = "99999999-9999-4999-8999-999999999999"
READER_ROLE = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"


def sub(index: int) -> str:
    return f"{index:08x}-0000-4000-8000-00000000000a"


def scope(index: int) -> str:
    return f"/subscriptions/{sub(index)}"


def estate(subscriptions: int = 3, clusters_each: int = 2) -> FakeEstate:
    subs = [sub(i) for i in range(subscriptions)]
    return FakeEstate(
        TENANT,
        subs,
        management_groups={"root": ["platform", subs[0]], "platform": subs[1:]},
        clusters=[Cluster(s, f"rg-{j}", f"aks-{j}", azure_rbac=j % 2 == 0) for s in subs for j in range(clusters_each)],
        service_principals={BACKLINE_APP_ID: SP},
        assignments=[
            Assignment(f"a{i}", f"/subscriptions/{s}", f"/subscriptions/{s}{READER_ROLE}", SP)
            for i, s in enumerate(subs)
        ],
        clients={"ci-client": "s3cret"},
        federated_clients=["ci-oidc"],
    )


# Retry Retry-After exactly, but back off briefly from 5xx, so the suite stays fast.
FAST_BACKOFF = ReadRetryPolicy(backoff=0.01)


def reader(fake: FakeAzureServer) -> EstateReader:
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    return reader_from_provider_token(cloud, fake.issue_token(), retry=FAST_BACKOFF)


def test_the_cloud_comes_from_the_metadata_host(serve: Serve) -> None:
    fake = serve(estate())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    assert (cloud.login, cloud.resource_manager, cloud.graph) == (fake.url, fake.url, fake.url)
    assert cloud.admin_consent_url(TENANT, BACKLINE_APP_ID) == (
        f"{fake.url}/{TENANT}/adminconsent?client_id={BACKLINE_APP_ID}"
    )


def test_subscriptions_are_read_across_pages(serve: Serve) -> None:
    fake = serve(estate(subscriptions=5), page_size=2)
    assert reader(fake).subscriptions() == sorted(sub(i) for i in range(5))
    assert len(fake.calls("GET", "/subscriptions")) == 3  # 2 + 2 + 1, following nextLink


def test_the_credentials_tenant_is_the_tokens(serve: Serve) -> None:
    fake = serve(estate())
    assert reader(fake).credentials_tenant() == TENANT


def test_role_assignments_of_a_principal_in_each_subscription_paged(serve: Serve) -> None:
    world = estate(subscriptions=3)
    cluster = world.clusters[0]
    world.assignments.append(
        Assignment("below", cluster.id, "/x/7f6c6a51-bcf8-42ba-9220-52d62157d7db", SP, description="by hand")
    )
    world.assignments.append(Assignment("other", f"/subscriptions/{sub(0)}", READER_ROLE, "someone-else"))
    fake = serve(world, page_size=1)
    found = reader(fake).role_assignments(SP, [scope(0), scope(1)])
    assert sorted(a.name for a in found.assignments[scope(0)]) == ["a0", "below"]
    assert [a.name for a in found.assignments[scope(1)]] == ["a1"]
    below = next(a for a in found.assignments[scope(0)] if a.name == "below")
    assert (below.scope, below.role_guid, below.description) == (
        cluster.id,
        "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
        "by hand",
    )
    listed = fake.calls("GET", "Authorization/roleAssignments")
    assert all(r.query.get("$filter") == f"principalId eq '{SP}'" for r in listed)


def test_every_cluster_of_many_subscriptions_costs_one_query_and_one_arm_list_each(serve: Serve) -> None:
    fake = serve(estate(subscriptions=4, clusters_each=30), page_size=100)
    inventory = reader(fake).clusters_in([sub(i) for i in range(4)])
    assert sum(len(found) for found in inventory.clusters.values()) == 120
    assert inventory.clusters[sub(2)][1].azure_rbac is False
    queries = fake.calls("POST", "ResourceGraph")
    assert len(queries) == 1  # 120 rows fit in one page of 1,000
    assert queries[0].body["subscriptions"] == [sub(i) for i in range(4)]
    listed = [r.path for r in fake.calls("GET", "managedClusters")]
    assert sorted(listed) == [f"{scope(i)}/providers/Microsoft.ContainerService/managedClusters" for i in range(4)]


def test_every_cluster_includes_one_resource_graph_has_not_indexed_beside_indexed_ones(serve: Serve) -> None:
    world = estate(subscriptions=2, clusters_each=3)
    fake = serve(world)
    new = Cluster(sub(0), "rg-new", "aks-new")
    world.clusters.append(new)
    fake.faults.lagging_in_resource_graph.add(new.id)
    inventory = reader(fake).clusters_in([sub(0), sub(1)])
    assert "aks-new" in [info.cluster.name for info in inventory.clusters[sub(0)]]
    assert len(inventory.clusters[sub(0)]) == 4


def test_a_cluster_resource_graph_still_shows_is_confirmed_in_arm(serve: Serve) -> None:
    world = estate(subscriptions=1, clusters_each=2)  # aks-0 has Azure RBAC on, aks-1 off
    fake = serve(world)
    deleted = Cluster(sub(0), "rg-old", "aks-deleted", azure_rbac=False)
    fake.faults.stale_in_resource_graph += [deleted, Cluster(sub(0), "rg-0", "aks-0", azure_rbac=False)]
    inventory = reader(fake).clusters_in([sub(0)])
    found = {info.cluster.name: info.azure_rbac for info in inventory.clusters[sub(0)]}
    assert found == {"aks-0": True, "aks-1": False}  # ARM's answer wins; the deleted one is gone
    gets = [r.path for r in fake.calls("GET", "managedClusters/")]
    assert gets == [deleted.id]  # one GET, for the one ARM does not list


def test_resource_graph_pages_are_followed_with_the_skip_token(serve: Serve) -> None:
    fake = serve(estate(subscriptions=1, clusters_each=2500))
    inventory = reader(fake).clusters_in([sub(0)])
    assert len(inventory.clusters[sub(0)]) == 2500
    queries = fake.calls("POST", "ResourceGraph")
    assert [q.body["options"].get("$skipToken") for q in queries] == [None, "1000", "2000"]


def test_named_clusters_cost_calls_by_subscription_never_by_cluster(serve: Serve) -> None:
    world = estate(subscriptions=3, clusters_each=20)
    fake = serve(world)
    wanted = [ClusterId.of(c.subscription, c.resource_group, c.name) for c in world.clusters]
    states = reader(fake).read_clusters(wanted)
    assert all(s.found is not None for s in states)
    assert len(fake.calls("POST", "ResourceGraph")) == 1
    assert fake.calls("GET", "managedClusters") == []


def test_a_cluster_resource_graph_has_not_indexed_yet_is_found_in_its_subscriptions_arm_list(serve: Serve) -> None:
    world = estate(subscriptions=3, clusters_each=2)
    fake = serve(world)
    new = world.clusters[3]  # in sub(1)
    fake.faults.lagging_in_resource_graph.add(new.id)
    wanted = [ClusterId.of(c.subscription, c.resource_group, c.name) for c in world.clusters]
    states = reader(fake).read_clusters(wanted)
    assert all(s.found is not None for s in states)
    listed = fake.calls("GET", "managedClusters")
    assert [r.path for r in listed] == [f"/subscriptions/{sub(1)}/providers/Microsoft.ContainerService/managedClusters"]


def test_a_missing_cluster_and_a_forbidden_subscription_are_told_apart(serve: Serve) -> None:
    world = estate(subscriptions=3, clusters_each=1)
    fake = serve(world)
    fake.forbid(f"/subscriptions/{sub(2)}")
    gone = ClusterId.of(sub(0), "rg-0", "aks-gone")
    hidden = ClusterId.of(sub(2), "rg-0", "aks-0")
    present = ClusterId.of(sub(1), "rg-0", "aks-0")
    states = {s.cluster: s for s in reader(fake).read_clusters([gone, hidden, present])}
    assert states[gone].missing
    assert states[present].found is not None
    failure = states[hidden].failure
    assert failure is not None and failure.forbidden
    assert (failure.status, failure.code, failure.scope) == (403, "AuthorizationFailed", f"/subscriptions/{sub(2)}")


def test_an_unknown_subscription_is_subscription_not_found(serve: Serve) -> None:
    fake = serve(estate(subscriptions=1))
    unknown = ClusterId.of(sub(9), "rg", "aks")
    [state] = reader(fake).read_clusters([unknown])
    assert state.failure is not None and state.failure.subscription_not_found


def test_when_resource_graph_is_down_each_subscription_is_listed_in_arm(serve: Serve) -> None:
    world = estate(subscriptions=3, clusters_each=4)
    fake = serve(world, page_size=3)
    fake.faults.resource_graph_down = True
    wanted = [ClusterId.of(c.subscription, c.resource_group, c.name) for c in world.clusters]
    start = time.perf_counter()
    states = reader(fake).read_clusters(wanted)
    assert all(s.found is not None for s in states)
    assert time.perf_counter() - start < 20
    assert len(fake.calls("GET", "managedClusters")) == 6  # two pages in each of three subscriptions
    assert len(fake.calls("POST", "ResourceGraph")) == 3  # server errors: three tries, then the fallback


def test_429_storms_are_waited_out_as_retry_after_says(serve: Serve) -> None:
    fake = serve(estate(subscriptions=2))
    fake.throttle("ResourceGraph", times=3, retry_after="1")
    start = time.perf_counter()
    inventory = reader(fake).clusters_in([sub(0), sub(1)])
    elapsed = time.perf_counter() - start
    assert sum(len(found) for found in inventory.clusters.values()) == 4
    assert len(fake.calls("POST", "ResourceGraph")) == 4
    assert elapsed >= 3.0  # three Retry-After: 1 waits


def test_503s_are_retried_and_a_persistent_one_is_reported(serve: Serve) -> None:
    fake = serve(estate(subscriptions=1))
    fake.fail("/subscriptions$", status=503, times=2)
    assert reader(fake).subscriptions() == [sub(0)]
    fake.fail("/subscriptions$", status=503, times=100)
    with pytest.raises(AzureReadError) as error:
        reader(fake).subscriptions()
    assert error.value.failure.status == 503


def test_slow_answers_are_read_concurrently_within_a_bound(serve: Serve) -> None:
    world = estate(subscriptions=32, clusters_each=0)
    fake = serve(world)
    fake.faults.latency = 0.2
    read = reader(fake)
    start = time.perf_counter()
    found = read.role_assignments(SP, [f"/subscriptions/{s}" for s in world.subscriptions])
    elapsed = time.perf_counter() - start
    assert len(found.assignments) == 32
    assert elapsed < 32 * 0.2 / 4  # sequential would take 6.4 s; 16 at a time about 0.5 s


def test_management_group_descendants_give_every_subscription_below(serve: Serve) -> None:
    fake = serve(estate(subscriptions=4), page_size=2)
    assert reader(fake).management_group_subscriptions("root") == sorted(sub(i) for i in range(4))
    with pytest.raises(AzureReadError) as error:
        reader(fake).management_group_subscriptions("nope")
    assert error.value.failure.not_found


def test_outside_pulumi_a_client_secret_signs_in_at_the_clouds_login_endpoint(serve: Serve) -> None:
    fake = serve(estate())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    read = reader_from_environment({"ARM_CLIENT_ID": "ci-client", "ARM_CLIENT_SECRET": "s3cret"}, cloud, TENANT)
    assert read.subscriptions() == sorted(sub(i) for i in range(3))
    assert read.service_principal(BACKLINE_APP_ID) == SP
    token_requests = fake.calls("POST", f"/{TENANT}/oauth2/v2.0/token")
    assert len(token_requests) == 1
    assert "client_secret=s3cret" in token_requests[0].body


def test_outside_pulumi_github_oidc_is_exchanged_for_a_token(serve: Serve) -> None:
    fake = serve(estate())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    environ = {
        "ARM_CLIENT_ID": "ci-oidc",
        "ARM_USE_OIDC": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{fake.url}{GITHUB_OIDC_PATH}",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": GITHUB_REQUEST_TOKEN,
    }
    assert reader_from_environment(environ, cloud, TENANT).subscriptions() == sorted(sub(i) for i in range(3))
    [exchange] = fake.calls("POST", "/oauth2/v2.0/token")
    assert "client_assertion=" in exchange.body
    assert "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" in exchange.body


def test_a_wrong_client_secret_fails_with_entras_message(serve: Serve) -> None:
    from backline_access.azure import SignInError

    fake = serve(estate())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    read = reader_from_environment({"ARM_CLIENT_ID": "ci-client", "ARM_CLIENT_SECRET": "wrong"}, cloud, TENANT)
    with pytest.raises(SignInError, match="AADSTS7000215"):
        read.subscriptions()


def test_a_token_the_fake_never_issued_is_refused_with_armss_401(serve: Serve) -> None:
    fake = serve(estate())
    read = reader_from_provider_token(resolve_cloud(CloudChoice(metadata_host=fake.host)), "not-a-token")
    with pytest.raises(AzureReadError) as error:
        read.subscriptions()
    assert (error.value.failure.status, error.value.failure.code) == (401, "InvalidAuthenticationToken")


# --- the fake itself: what later work (adoption, verification) will lean on ----------------------


def test_the_fake_answers_a_second_equivalent_assignment_with_arms_409(serve: Serve) -> None:
    import requests

    fake = serve(estate(subscriptions=1))
    scope = f"/subscriptions/{sub(0)}"
    url = f"{fake.url}{scope}/providers/Microsoft.Authorization/roleAssignments"
    headers = {"Authorization": f"Bearer {fake.issue_token()}"}
    body = {
        "properties": {
            "roleDefinitionId": f"{scope}{READER_ROLE}",
            "principalId": SP,
            "principalType": "ServicePrincipal",
        }
    }
    answer = requests.put(f"{url}/another-name?api-version=2022-04-01", json=body, headers=headers, timeout=10)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "RoleAssignmentExists"
    assert requests.put(f"{url}/a0?api-version=2022-04-01", json=body, headers=headers, timeout=10).status_code == 200
    assert requests.delete(f"{url}/a0?api-version=2022-04-01", headers=headers, timeout=10).status_code == 200
    assert requests.delete(f"{url}/a0?api-version=2022-04-01", headers=headers, timeout=10).status_code == 204


def test_the_fake_shows_a_new_assignment_only_after_n_reads(serve: Serve) -> None:
    world = estate(subscriptions=1)
    world.assignments[0].visible_after_reads = 2
    fake = serve(world)
    read = reader(fake)
    seen = [len(read.role_assignments(SP, [scope(0)]).assignments[scope(0)]) for _ in range(3)]
    assert seen == [0, 0, 1]
