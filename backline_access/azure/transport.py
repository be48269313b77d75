"""HTTP to Azure Resource Manager and Microsoft Graph: the only module of the project that sends requests.

Built on azure-core's pipeline (its transport, bearer-token policy and user agent), with one policy of our own
for retries: every call here is a read (GET, or a Resource Graph query sent as POST, which azure-core's
RetryPolicy never retries), so 429 is retried after its Retry-After and 408/5xx/connection errors with jittered
exponential backoff.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HTTPPolicy, UserAgentPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from .errors import AzureFailure, AzureReadError, failure_from_body

USER_AGENT = "backline-access"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SERVER_ERROR_ATTEMPTS = "server_error_attempts"  # a per-request option of ReadRetryPolicy
T = TypeVar("T")
R = TypeVar("R")


class ReadRetryPolicy(HTTPPolicy):  # type: ignore[type-arg]
    """Retries reads: 429 after Retry-After (capped), 408/5xx and dropped connections with jittered backoff."""

    def __init__(self, attempts: int = 6, backoff: float = 0.5, max_wait: float = 30.0) -> None:
        super().__init__()
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        # A request may allow fewer tries on server errors (a read with a fallback should not wait long).
        server_error_attempts = min(self.attempts, request.context.options.pop(SERVER_ERROR_ATTEMPTS, self.attempts))
        failures = 0
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.next.send(request)
            except (ServiceRequestError, ServiceResponseError):
                failures += 1
                if failures >= server_error_attempts:
                    raise
                time.sleep(self._jittered(attempt))
                continue
            status = response.http_response.status_code
            if status not in RETRY_STATUSES or attempt == self.attempts:
                return response
            if status != 429:
                failures += 1
                if failures >= server_error_attempts:
                    return response
            time.sleep(self._wait(response, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, response: PipelineResponse[Any, Any], attempt: int) -> float:
        retry_after: str | None = response.http_response.headers.get("Retry-After")
        if retry_after:
            try:
                return min(float(retry_after), self.max_wait)
            except ValueError:
                pass
        return self._jittered(attempt)

    def _jittered(self, attempt: int) -> float:
        ceiling: float = min(self.max_wait, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


class CallCounter:
    """How many HTTP requests a client sent (retries included): figures for benchmarks and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


class _CountingPolicy(HTTPPolicy):  # type: ignore[type-arg]
    def __init__(self, counter: CallCounter) -> None:
        super().__init__()
        self.counter = counter

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        self.counter.add()
        return self.next.send(request)


def _session(pool: int) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
    session.mount("https://", adapter)
    return session


class AzureHttp:
    """One endpoint (Resource Manager or Graph) with one credential, safe to use from many threads."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        scope: str,
        concurrency: int = 16,
        retry: ReadRetryPolicy | None = None,
        counter: CallCounter | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self.scope = scope
        self.concurrency = concurrency
        self.counter = counter or CallCounter()
        policies = [
            UserAgentPolicy(base_user_agent=USER_AGENT),
            retry or ReadRetryPolicy(),
            _CountingPolicy(self.counter),
            BearerTokenCredentialPolicy(credential, scope),
        ]
        transport = RequestsTransport(session=_session(concurrency * 2), session_owner=True)
        self._client: PipelineClient[Any, Any] = PipelineClient(self.base_url, policies=policies, transport=transport)

    def access_token(self) -> str:
        """The bearer token this endpoint is called with (to read its claims, never to print it)."""
        return self.credential.get_token(self.scope).token

    def get(self, path: str, params: Mapping[str, str] | None = None, scope: str | None = None) -> Any:
        return self._send(HttpRequest("GET", self._url(path), params=dict(params or {})), scope or path)

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        body: Any,
        scope: str | None = None,
        server_error_attempts: int | None = None,
    ) -> Any:
        request = HttpRequest("POST", self._url(path), params=dict(params), json=body)
        options = {SERVER_ERROR_ATTEMPTS: server_error_attempts} if server_error_attempts else {}
        return self._send(request, scope or path, **options)

    def pages(self, path: str, params: Mapping[str, str], scope: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list, following `nextLink` (ARM) or `@odata.nextLink` (Graph)."""
        document = self.get(path, params, scope)
        while True:
            yield from document.get("value", [])
            next_link = document.get("nextLink") or document.get("@odata.nextLink")
            if not next_link:
                return
            document = self._send(HttpRequest("GET", next_link), scope or path)

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`work` over `items` with at most `concurrency` requests under way; results in the items' order."""
        listed: Sequence[T] = list(items)
        if len(listed) <= 1:
            return [work(item) for item in listed]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(listed))) as pool:
            return list(pool.map(work, listed))

    def _url(self, path: str) -> str:
        return path if path.startswith("https://") else urljoin(self.base_url + "/", path.lstrip("/"))

    def _send(self, request: HttpRequest, scope: str, **options: Any) -> Any:
        try:
            response = self._client.send_request(request, **options)
        except (ServiceRequestError, ServiceResponseError) as error:
            raise AzureReadError(AzureFailure(scope, 0, "ConnectionFailed", str(error))) from None
        body = _json(response.text())
        if response.status_code >= 400:
            raise AzureReadError(failure_from_body(scope, response.status_code, body))
        return body


def _json(text: str) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text[:300]}
