"""The read side at the edges real tenants and CI runners have, against the fake Azure over HTTPS: sign-ins
that fail, parallel token requests, throttling with long or dated Retry-After, stalled connections, paging that
does not end, and what a support ticket needs from an error."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import CertificateCredential
from fake_azure import GITHUB_OIDC_PATH, GITHUB_REQUEST_TOKEN, FakeAzureServer
from test_read_side import SP, TENANT, estate, reader, scope, sub
from test_verification import onboarded, plan
from typer.testing import CliRunner

from backline_access.azure import AzureReadError, SignInError, identity, reader_for, reader_from_environment
from backline_access.azure.identity import ProviderToken, SharedCredential, credential_from_environment, resolve_cloud
from backline_access.azure.reads import CLUSTERS_API
from backline_access.cli import app
from backline_access.config.clouds import NAMED_CLOUDS, PUBLIC, CloudChoice
from backline_access.verify import tenant_problem
from backline_access.verify.checks import verify

Serve = Callable[..., FakeAzureServer]
SECRET_ENV = {"ARM_CLIENT_ID": "verifier", "ARM_CLIENT_SECRET": "s3cret"}


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The waits azure-core's RetryPolicy asks its transport for, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, seconds: waits.append(seconds))
    yield waits


def signed_in(fake: FakeAzureServer, environ: dict[str, str] | None = None) -> Any:
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    return reader_from_environment(environ or SECRET_ENV, cloud, TENANT), cloud


# --- sign-in -------------------------------------------------------------------------------------------------


ALL_CLUSTERS_STACK = f"""
config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions: ["{sub(0)}"]
  backline-access:aks:
    - subscription: "{sub(0)}"
      all: true
"""


def test_verify_with_a_wrong_secret_and_all_true_exits_3_with_the_fix_and_no_traceback(
    serve: Serve, stack_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = serve(estate())
    fake.estate.clients = {"verifier": "s3cret"}
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
    monkeypatch.setenv("ARM_CLIENT_ID", "verifier")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "wrong")
    result = CliRunner().invoke(app, ["verify", "--config", str(stack_file(ALL_CLUSTERS_STACK)), "--wait", "0"])
    assert result.exit_code == 3, result.output
    assert "AADSTS7000215" in result.stderr
    assert f"fix: az cloud set --name FakeAzure && az login --tenant {TENANT}" in result.stderr
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)


def test_init_with_a_wrong_secret_exits_3(serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(estate())
    fake.estate.clients = {"verifier": "s3cret"}
    (tmp_path / "Pulumi.yaml").write_text("name: backline-access\nruntime: python\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", fake.host)
    monkeypatch.setenv("ARM_CLIENT_ID", "verifier")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "wrong")
    result = CliRunner().invoke(
        app, ["init", "--stack", "dev", "--tenant", TENANT, "--aks-sub", sub(0), "--aks-all", "--yes"]
    )
    assert result.exit_code == 3, result.output
    assert "cannot sign in" in result.stderr and "AADSTS7000215" in result.stderr
    assert not (tmp_path / "Pulumi.dev.yaml").exists()


class _GraphNeedsMfa:
    """Resource Manager tokens work; Microsoft Graph's is refused (conditional access asks for MFA)."""

    def __init__(self, fake: FakeAzureServer) -> None:
        self.fake = fake

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if any("/v1.0" in s or (s.startswith(self.fake.url) and "graph" in s) for s in scopes):
            raise ClientAuthenticationError("AADSTS50076: multi-factor authentication is required")
        return AccessToken(self.fake.issue_token("verifier"), int(time.time()) + 3600)


def test_a_second_token_that_fails_after_the_tenant_check_is_a_credentials_problem(serve: Serve) -> None:
    fake = serve(onboarded())
    cloud = resolve_cloud(CloudChoice(metadata_host=fake.host))
    graph_cloud = cloud.__class__(**{**cloud.__dict__, "graph": f"{fake.url}/graph-audience"})

    class GraphRefused(_GraphNeedsMfa):
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            if scopes == (f"{graph_cloud.graph}/.default",):
                raise ClientAuthenticationError("AADSTS50076: multi-factor authentication is required")
            return super().get_token(*scopes, **kwargs)

    reads = reader_for(graph_cloud, SharedCredential(GraphRefused(fake)))
    checks = verify(plan(), reads, graph_cloud)
    assert [(c.check, c.status) for c in checks] == [("tenant", "pass"), ("sign-in", "unknown")]
    assert "AADSTS50076" in checks[1].evidence
    assert checks[1].fix is not None and f"az login --tenant {TENANT}" in checks[1].fix
    assert tenant_problem(checks)  # the CLI's exit code 3


def test_a_fan_out_over_20_subscriptions_asks_for_one_token_per_audience(serve: Serve) -> None:
    fake = serve(estate(subscriptions=20, clusters_each=1))
    fake.estate.clients = {"verifier": "s3cret"}
    reads, _ = signed_in(fake)
    found = reads.role_assignments(SP, [scope(i) for i in range(20)])
    assert not found.failures and len(fake.calls("GET", "Authorization/roleAssignments")) == 20
    assert reads.service_principal("3fc75f55-e53f-4950-9127-665106cded58") == SP
    token_requests = fake.calls("POST", "/oauth2/v2.0/token")
    scopes = sorted(r.body.split("scope=")[1].split("&")[0] for r in token_requests)
    # The fake serves Resource Manager and Graph from one URL, so both are one audience here: one token in all
    # (azure-core's policy alone asked once per thread of the first fan-out).
    assert len(token_requests) == len(set(scopes)) == 1, scopes


def test_a_token_is_asked_for_again_shortly_before_it_expires() -> None:
    now = [1000.0]
    asked: list[int] = []

    class Counting:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            asked.append(1)
            return AccessToken(f"t{len(asked)}", int(now[0]) + 3600)

    shared = SharedCredential(Counting(), clock=lambda: now[0])
    assert shared.get_token("a").token == "t1"
    now[0] += 3000
    assert shared.get_token("a").token == "t1"  # 600 s left
    now[0] += 400
    assert shared.get_token("a").token == "t2"  # 200 s left: refreshed


def test_the_providers_token_lives_until_its_exp_and_is_then_asked_for_again() -> None:
    import base64
    import json

    def jwt(exp: int) -> str:
        payload = base64.urlsafe_b64encode(json.dumps({"exp": exp, "tid": TENANT}).encode()).decode().rstrip("=")
        return f"e30.{payload}."

    now = [10_000.0]
    fresh = jwt(10_000 + 3600)
    token = ProviderToken(jwt(10_000 + 600), refresh=lambda: fresh, clock=lambda: now[0])
    assert token.get_token("x").expires_on == 10_600
    now[0] += 400  # 200 s before exp
    assert token.get_token("x").token == fresh


def test_a_refresh_that_fails_is_a_sign_in_error() -> None:
    def refused() -> str:
        raise RuntimeError("getClientToken failed: the provider's credentials expired")

    now = [0.0]
    shared = SharedCredential(ProviderToken("not-a-jwt", refresh=refused, clock=lambda: now[0]), clock=lambda: now[0])
    shared.get_token("https://management.azure.com/.default")  # a token that names no exp lives 50 minutes
    now[0] += 2900
    with pytest.raises(SignInError, match="credentials expired"):
        shared.get_token("https://management.azure.com/.default")


# --- credentials as the providers choose them ------------------------------------------------------------------


def test_a_certificate_is_chosen_over_a_secret_as_azure_native_does(tmp_path: Path) -> None:
    pem = tmp_path / "client.pem"
    leaf = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert("ci-client", key_type=trustme.KeyType.RSA)
    pem.write_bytes(leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes())
    environ = {"ARM_CLIENT_ID": "c", "ARM_CLIENT_SECRET": "s", "ARM_CLIENT_CERTIFICATE_PATH": str(pem)}
    credential = credential_from_environment(environ, PUBLIC, TENANT)
    assert isinstance(credential, SharedCredential)
    assert isinstance(credential.inner, CertificateCredential)


@pytest.mark.parametrize("switch", ["1", "True", "yes"])
def test_switches_count_only_when_exactly_true(switch: str) -> None:
    from azure.identity import AzureCliCredential

    credential = credential_from_environment({"ARM_USE_MSI": switch, "ARM_CLIENT_ID": "c"}, PUBLIC, TENANT)
    assert isinstance(credential, SharedCredential) and isinstance(credential.inner, AzureCliCredential)


def test_azure_devops_workload_identity_signs_in_through_the_service_connection() -> None:
    from azure.identity import AzurePipelinesCredential

    environ = {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "c",
        "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID": "backline-access-oidc",
        "SYSTEM_ACCESSTOKEN": "job-token",
        "SYSTEM_OIDCREQUESTURI": "https://dev.azure.example/oidc",
    }
    credential = credential_from_environment(environ, PUBLIC, TENANT)
    assert isinstance(credential, SharedCredential) and isinstance(credential.inner, AzurePipelinesCredential)


def github_oidc(fake: FakeAzureServer, **extra: str) -> dict[str, str]:
    return {
        "ARM_CLIENT_ID": "ci-oidc",
        "ARM_USE_OIDC": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{fake.url}{GITHUB_OIDC_PATH}",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": GITHUB_REQUEST_TOKEN,
        **extra,
    }


def test_github_oidc_asks_for_the_providers_audience_by_default(serve: Serve) -> None:
    fake = serve(estate())
    reads, _ = signed_in(fake, github_oidc(fake))
    assert reads.subscriptions()
    [asked] = fake.calls("GET", GITHUB_OIDC_PATH)
    assert asked.query["audience"] == "api://AzureADTokenExchange"


def test_github_oidc_asks_for_arm_oidc_audience_when_it_is_set(serve: Serve) -> None:
    fake = serve(estate())
    fake.faults.oidc_audience = "api://AzureADTokenExchangeUSGov"
    reads, _ = signed_in(fake, github_oidc(fake, ARM_OIDC_AUDIENCE="api://AzureADTokenExchangeUSGov"))
    assert reads.subscriptions()
    assert [r.query["audience"] for r in fake.calls("GET", GITHUB_OIDC_PATH)] == ["api://AzureADTokenExchangeUSGov"]


@pytest.mark.parametrize("cloud_name", sorted(NAMED_CLOUDS))
@pytest.mark.parametrize("audience", [None, "api://AzureADTokenExchangeUSGov"])
def test_github_oidc_asks_for_the_same_audience_in_every_named_cloud(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, cloud_name: str, audience: str | None
) -> None:
    """azure-native asks for api://AzureADTokenExchange in every cloud unless ARM_OIDC_AUDIENCE says otherwise
    (`auth_azidentity.go`); one federated credential then serves both `pulumi up` and `verify`. Only the GitHub
    request is made here (the assertion callback), never one to a sovereign cloud's login endpoint."""
    fake = serve(estate())
    fake.faults.oidc_audience = audience or "api://AzureADTokenExchange"
    assertions: list[Callable[[], str]] = []

    class Recorded:
        def __init__(self, tenant: str, client_id: str, func: Callable[[], str], **options: Any) -> None:
            assertions.append(func)

    monkeypatch.setattr(identity, "ClientAssertionCredential", Recorded)
    extra = {"ARM_OIDC_AUDIENCE": audience} if audience else {}
    credential_from_environment(github_oidc(fake, **extra), NAMED_CLOUDS[cloud_name], TENANT)
    [assertion] = assertions
    assertion()
    [asked] = fake.calls("GET", GITHUB_OIDC_PATH)
    assert asked.query["audience"] == (audience or "api://AzureADTokenExchange")


def test_a_custom_clouds_tokens_are_for_its_first_audience(serve: Serve) -> None:
    fake = serve(estate())
    fake.estate.clients = {"verifier": "s3cret"}
    fake.token_audience = "https://management.stack.example/4c1e7f2a-0000-4000-8000-000000000001/"
    reads, cloud = signed_in(fake)
    assert cloud.arm_scope == "https://management.stack.example/4c1e7f2a-0000-4000-8000-000000000001/.default"
    reads.subscriptions()
    [request] = fake.calls("POST", "/oauth2/v2.0/token")
    assert "scope=https%3A%2F%2Fmanagement.stack.example%2F4c1e7f2a" in request.body


# --- retries, time and paging ---------------------------------------------------------------------------------


def test_retry_after_in_seconds_is_waited_out_whole(serve: Serve, slept: list[float]) -> None:
    fake = serve(estate())
    fake.throttle("/subscriptions$", times=1, retry_after="45")
    assert reader(fake).subscriptions()
    assert slept == [45.0]  # no retry sooner, and never cut short


def test_retry_after_as_an_http_date_is_waited_until(serve: Serve, slept: list[float]) -> None:
    fake = serve(estate())
    fake.throttle("/subscriptions$", times=1, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True))
    assert reader(fake).subscriptions()
    [wait] = slept
    assert 25 <= wait <= 31


def test_retry_after_ms_is_honoured(serve: Serve, slept: list[float]) -> None:
    fake = serve(estate())
    fake.throttle("/subscriptions$", times=1, retry_after=None, headers={"retry-after-ms": "1500"})
    assert reader(fake).subscriptions()
    assert slept == [1.5]


def test_a_throttled_resource_graph_query_is_retried_after_its_retry_after(serve: Serve, slept: list[float]) -> None:
    fake = serve(estate(subscriptions=1))
    fake.throttle("ResourceGraph", times=2, retry_after=None, headers={"x-ms-retry-after-ms": "2000"})
    inventory = reader(fake).clusters_in([sub(0)])
    assert len(inventory.clusters[sub(0)]) == 2
    assert len(fake.calls("POST", "ResourceGraph")) == 3
    assert slept == [2.0, 2.0]


def test_a_retry_after_past_the_deadline_is_a_throttling_failure_not_a_wait(serve: Serve, slept: list[float]) -> None:
    fake = serve(estate(subscriptions=1))
    fake.throttle("roleAssignments", times=1, retry_after="120")
    reads = reader(fake)
    with reads.deadline(30, "30 s this test allows"):
        found = reads.role_assignments(SP, [scope(0)])
    failure = found.failures[scope(0)]
    assert failure.code == "Throttled"
    assert "Retry-After 120 s" in failure.message and "30 s this test allows" in failure.message
    assert slept == []


def test_a_stalled_connection_ends_within_the_read_timeout_and_its_check_is_unknown(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backline_access.azure.transport.READ_TIMEOUT", 0.3)
    fake = serve(onboarded())
    fake.faults.stalls["roleAssignments"] = 1.5
    reads, cloud = signed_in(fake)
    start = time.monotonic()
    with reads.deadline(5, "5 s this test allows"):
        checks = verify(plan(), reads, cloud)
    # The deadline holds: no backoff sleeps past it (azure-core checks its timeout only after sleeping).
    assert time.monotonic() - start < 6.5
    readers = [c for c in checks if c.check == "Reader"]
    assert readers and all(c.status == "unknown" for c in readers)


def test_a_next_link_that_points_back_at_its_page_ends_the_listing(serve: Serve) -> None:
    fake = serve(estate(subscriptions=1))
    fake.faults.looping_pages.add("roleAssignments")
    found = reader(fake).role_assignments(SP, [scope(0)])
    assert found.failures[scope(0)].code == "PagingDidNotEnd"
    assert len(fake.calls("GET", "Authorization/roleAssignments")) == 2  # the page, then its link once


def test_a_truncated_resource_graph_answer_is_not_used_and_arm_lists_the_clusters(serve: Serve) -> None:
    fake = serve(estate(subscriptions=2, clusters_each=2))
    fake.faults.resource_graph_truncated = True
    found = reader(fake).clusters_in([sub(0), sub(1)])
    assert sorted(len(infos) for infos in found.clusters.values()) == [2, 2] and not found.failures
    assert len(fake.calls("GET", "/providers/Microsoft.ContainerService/managedClusters")) == 2


def test_the_aks_api_version_is_one_a_sovereign_cloud_serves(serve: Serve) -> None:
    """Sovereign clouds publish AKS api-versions months after the public cloud (Azure/azure-cli#12894, #13047,
    #21492, #23985: NoRegisteredProviderFound). The fake serves the GA versions up to 2024-10-01, as such a cloud
    might; both ARM reads of clusters (the list and a GET) work there."""
    fake = serve(estate(subscriptions=1, clusters_each=1))
    fake.faults.clusters_api_versions = frozenset({"2023-08-01", "2024-02-01", "2024-05-01", "2024-10-01"})
    fake.faults.resource_graph_down = True
    reads = reader(fake)
    [info] = reads.clusters_in([sub(0)]).clusters[sub(0)]
    assert reads.cluster(info.cluster).cluster == info.cluster
    assert "preview" not in CLUSTERS_API


def test_arm_refuses_a_request_without_api_version(serve: Serve) -> None:
    """The fake holds our client to ARM's contract: every ARM request names its api-version."""
    fake = serve(estate(subscriptions=1))
    with pytest.raises(AzureReadError) as refused:
        reader(fake).arm.get(f"{scope(0)}/providers/Microsoft.ContainerService/managedClusters", {})
    assert refused.value.failure.code == "MissingApiVersionParameter"


# --- diagnostics -------------------------------------------------------------------------------------------------


def test_an_error_carries_arms_correlation_id(serve: Serve) -> None:
    fake = serve(estate(subscriptions=1))
    fake.forbid(scope(0))
    failure = reader(fake).role_assignments(SP, [scope(0)]).failures[scope(0)]
    assert failure.status == 403
    assert "x-ms-correlation-request-id: " in failure.describe() and "x-ms-request-id: " in failure.describe()


def test_requests_carry_the_user_agent_and_a_client_request_id(serve: Serve) -> None:
    from importlib.metadata import version

    fake = serve(estate(subscriptions=1))
    reader(fake).subscriptions()
    [listed] = fake.calls("GET", "/subscriptions")
    agent = listed.headers["user-agent"]
    assert agent.startswith(f"backline-access/{version('backline-access')} ") and "azsdk-python-core/" in agent
    assert listed.headers.get("x-ms-client-request-id")
