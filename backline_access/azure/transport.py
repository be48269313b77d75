"""HTTP to Azure Resource Manager and Microsoft Graph: the only module of the project that sends requests.

Built on azure-core's pipeline: its transport (10 s to connect, 60 s to read), `RequestIdPolicy`
(`x-ms-client-request-id`), user agent, bearer-token policy and `RetryPolicy`, which honours `Retry-After` as
seconds or an HTTP date, `retry-after-ms` and `x-ms-retry-after-ms`. What ours adds to that policy: jittered
backoff, a per-request bound on server-error retries (a read with a fallback should not wait long), and the
operation's deadline, which no wait may pass.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HTTPPolicy,
    RequestIdPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from .errors import AzureFailure, AzureReadError, SignInError, failure_from_body, request_ids

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
# A list that pages further than this, or hands back a page link it gave before, is a failure of that read.
MAX_PAGES = 10_000
SERVER_ERROR_ATTEMPTS = "server_error_attempts"  # per-request option: tries on 5xx before giving up
DEADLINE = "backline_deadline"  # the operation's Deadline, a per-request option the retry policy takes
READ_METHODS = frozenset({"HEAD", "GET", "OPTIONS", "POST"})  # every request here reads; POST is a query
T = TypeVar("T")
R = TypeVar("R")


def user_agent() -> str:
    try:
        return f"backline-access/{version('backline-access')}"
    except PackageNotFoundError:  # a checkout that was never installed
        return "backline-access"


class Deadline:
    """When one operation (a verify run, the preflight, init's reads) must be done, on the monotonic clock;
    shared by all its requests. `label` says whose limit it is, for the message when it is reached."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.label = ""

    def set(self, seconds: float | None, label: str) -> None:
        self.at = None if seconds is None else time.monotonic() + seconds
        self.label = label

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()


class DeadlineExceededError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class ReadRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's RetryPolicy for reads: `attempts` tries in all, jittered exponential backoff, Retry-After as
    Azure gives it (never cut short), and no wait past the operation's deadline."""

    def __init__(self, attempts: int = 6, backoff: float = 0.5, max_wait: float = 30.0) -> None:
        retries = attempts - 1
        super().__init__(
            retry_total=retries,
            retry_connect=retries,
            retry_read=retries,
            retry_status=retries,
            retry_backoff_factor=backoff,
            retry_backoff_max=max_wait,
        )

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        settings = super().configure_retries(options)
        settings[SERVER_ERROR_ATTEMPTS] = options.pop(SERVER_ERROR_ATTEMPTS, None)
        settings[DEADLINE] = options.pop(DEADLINE, None)
        return settings

    def sleep(
        self, settings: dict[str, Any], transport: Any, response: PipelineResponse[Any, Any] | None = None
    ) -> None:
        """Between attempts: Azure's Retry-After whole, else the backoff; neither past the operation's deadline."""
        deadline: Deadline | None = settings.get(DEADLINE)
        if response is not None and self._waited_out_retry_after(response, transport, deadline):
            return
        self._backoff_within(settings, transport, deadline)

    def _backoff_within(self, settings: dict[str, Any], transport: Any, deadline: Deadline | None) -> None:
        """The backoff, cut to what the deadline has left: azure-core checks its `timeout` only after the sleep,
        so an uncut backoff could end a read seconds past its deadline."""
        backoff = self.get_backoff_time(settings)
        remaining = deadline.remaining() if deadline else None
        if remaining is not None:
            backoff = min(backoff, max(0.0, remaining))
        if backoff > 0:
            transport.sleep(backoff)

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        status = response.http_response.status_code
        limit = settings.get(SERVER_ERROR_ATTEMPTS)
        if limit and status >= 500:
            server_errors = 1 + sum(
                1
                for attempt in settings["history"]
                if attempt.http_response and attempt.http_response.status_code >= 500
            )
            if server_errors >= limit:
                return False
        return bool(super().is_retry(settings, response))

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        tries = len(settings["history"])
        ceiling = min(float(settings["max_backoff"]), float(settings["backoff"]) * 2.0 ** max(0, tries - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _waited_out_retry_after(
        self, response: PipelineResponse[Any, Any], transport: Any, deadline: Deadline | None
    ) -> bool:
        retry_after = self.get_retry_after(response)
        if not retry_after:
            return False
        remaining = deadline.remaining() if deadline else None
        if remaining is not None and retry_after > remaining:
            raise DeadlineExceededError(
                f"Azure is throttling this read (HTTP {response.http_response.status_code}, Retry-After "
                f"{retry_after:.0f} s), longer than the {deadline.label if deadline else ''} has left "
                f"({max(0.0, remaining):.0f} s)"
            )
        transport.sleep(retry_after)
        return True


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


def get_unauthenticated(
    url: str, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One GET outside Resource Manager and Graph (a cloud's metadata document, GitHub's OIDC token), through the
    same pipeline as every other request: it names us in its User-Agent and carries a client request id. Raises
    AzureReadError when nothing answers; answers (status, JSON body) otherwise."""
    client: PipelineClient[Any, Any] = PipelineClient(
        url,
        policies=[RequestIdPolicy(), UserAgentPolicy(user_agent=user_agent())],
        transport=RequestsTransport(connection_timeout=CONNECT_TIMEOUT, read_timeout=timeout),
    )
    request = HttpRequest("GET", url, params=dict(params or {}), headers=dict(headers or {}))
    try:
        with client:
            response = client.send_request(request)
    except (ServiceRequestError, ServiceResponseError) as error:
        raise AzureReadError(AzureFailure(url, 0, "ConnectionFailed", str(error))) from None
    return response.status_code, _json(response.text())


def _session(pool: int) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
    session.mount("https://", adapter)
    return session


class AzureHttp:
    """One endpoint (Resource Manager or Graph) with one credential, safe to use from many threads. `deadline`
    bounds every request of the current operation (see EstateReader.deadline)."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        scope: str,
        concurrency: int = 16,
        retry: ReadRetryPolicy | None = None,
        counter: CallCounter | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self.scope = scope
        self.concurrency = concurrency
        self.counter = counter or CallCounter()
        self.deadline = Deadline()
        policies = [
            RequestIdPolicy(),
            UserAgentPolicy(user_agent=user_agent()),
            retry or ReadRetryPolicy(),
            _CountingPolicy(self.counter),
            BearerTokenCredentialPolicy(credential, scope),
        ]
        transport = RequestsTransport(
            session=_session(concurrency * 2),
            session_owner=True,
            connection_timeout=CONNECT_TIMEOUT,
            read_timeout=read_timeout or READ_TIMEOUT,
        )
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
        """A query sent as POST (Resource Graph): a read, so retried like one."""
        request = HttpRequest("POST", self._url(path), params=dict(params), json=body)
        options: dict[str, Any] = {"retry_on_methods": READ_METHODS}
        if server_error_attempts:
            options[SERVER_ERROR_ATTEMPTS] = server_error_attempts
        return self._send(request, scope or path, **options)

    def pages(self, path: str, params: Mapping[str, str], scope: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list, following `nextLink` (ARM), `@nextLink` (ARM's list of management groups, as its
        REST spec's ListManagementGroups example has it) or `@odata.nextLink` (Graph)."""
        document = self.get(path, params, scope)
        seen: set[str] = set()
        while True:
            yield from document.get("value", [])
            next_link = document.get("nextLink") or document.get("@nextLink") or document.get("@odata.nextLink")
            if not next_link:
                return
            if next_link in seen or len(seen) >= MAX_PAGES:
                why = "handed back a page link it gave before" if next_link in seen else f"paged past {MAX_PAGES} pages"
                raise AzureReadError(AzureFailure(scope or path, 0, "PagingDidNotEnd", f"the listing {why}"))
            seen.add(next_link)
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
        remaining = self.deadline.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise AzureReadError(AzureFailure(scope, 0, "DeadlineExceeded", self._out_of_time()))
            options["timeout"] = remaining  # azure-core's bound on the request and its retries together
            options[DEADLINE] = self.deadline  # the retry policy's bound on its own waits
        try:
            response = self._client.send_request(request, **options)
        except ClientAuthenticationError as error:
            raise SignInError(self.scope, str(error)) from None
        except DeadlineExceededError as error:
            raise AzureReadError(AzureFailure(scope, 429, "Throttled", str(error))) from None
        except (ServiceRequestError, ServiceResponseError) as error:
            if self.deadline.remaining() is not None and (self.deadline.remaining() or 0) <= 0:
                raise AzureReadError(AzureFailure(scope, 0, "DeadlineExceeded", self._out_of_time())) from None
            raise AzureReadError(AzureFailure(scope, 0, "ConnectionFailed", str(error))) from None
        body = _json(response.text())
        if response.status_code >= 400:
            raise AzureReadError(failure_from_body(scope, response.status_code, body, request_ids(response.headers)))
        return body

    def _out_of_time(self) -> str:
        return f"no answer within the {self.deadline.label}"


def _json(text: str) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text[:300]}
