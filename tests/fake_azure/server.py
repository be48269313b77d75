"""A fake Azure on 127.0.0.1 over real HTTPS: cloud metadata, an Entra token endpoint, Resource Manager,
Resource Graph and Microsoft Graph, for what this project reads and writes. It logs every request and injects
faults on demand. The TLS certificate comes from a throwaway CA (trustme); clients trust it through
REQUESTS_CA_BUNDLE / SSL_CERT_FILE, never through a switch that turns verification off."""

from __future__ import annotations

import base64
import functools
import json
import re
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import trustme

from .estate import BACKLINE_APP_ID, Assignment, Estate

GITHUB_OIDC_PATH = "/_github/oidc-token"
GITHUB_REQUEST_TOKEN = "github-request-token"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


@dataclass
class Fault:
    pattern: re.Pattern[str]
    status: int
    times: int
    code: str
    retry_after: str | None = None
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # sent with the fault's answer


@dataclass
class Faults:
    latency: float = 0.0
    rules: list[Fault] = field(default_factory=list)
    forbidden_scopes: list[str] = field(default_factory=list)
    lagging_in_resource_graph: set[str] = field(default_factory=set)  # cluster ids Resource Graph has not seen
    # Clusters as Resource Graph still indexes them (deleted since, or with Azure RBAC as it was): shown instead.
    stale_in_resource_graph: list[Any] = field(default_factory=list)
    stalls: dict[str, float] = field(default_factory=dict)  # path pattern -> seconds the answer is held back
    looping_pages: set[str] = field(default_factory=set)  # path patterns whose nextLink points back at itself
    oidc_audience: str = "api://AzureADTokenExchange"  # what the federated credential on Entra's side names
    resource_graph_down: bool = False
    resource_graph_truncated: bool = False  # every answer says resultTruncated: "true"
    # The AKS api-versions this cloud's ARM serves (None: all). Sovereign clouds publish new ones months late.
    clusters_api_versions: frozenset[str] | None = None
    # Microsoft Graph paths (patterns) the verifier may not read: 403 Authorization_RequestDenied, as Graph answers
    # a caller without Application.Read.All.
    graph_forbidden: list[str] = field(default_factory=list)


class AzureError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class FakeAzureServer:
    """`with FakeAzureServer(estate, ca_file) as fake:` serves until the block ends."""

    def __init__(self, estate: Estate, ca_file: Path, port: int = 0, page_size: int = 50) -> None:
        self.estate = estate
        self.faults = Faults()
        self.requests: list[Request] = []
        self.role_definition_reads: list[str] = []
        self.page_size = page_size
        self.token_audience: str | None = None  # the metadata's authentication.audiences[0]; default: its URL
        self._lock = threading.Lock()
        self._reads: dict[str, int] = {}
        self._tokens: set[str] = set()
        ca, leaf = _certificates()
        ca.cert_pem.write_to_path(str(ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.ca_file = ca_file
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def __enter__(self) -> FakeAzureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what a test sets up ------------------------------------------------------------------

    def issue_token(self, client_id: str = "deployer", tenant: str | None = None, lifetime: float = 3600) -> str:
        """A bearer token this fake accepts until its `exp` (JWT-shaped, unsigned), as Entra would issue for the
        client."""
        claims = {
            "tid": tenant or self.estate.tenant,
            "appid": client_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_OID, client_id)),  # the client's service principal in the tenant
            "aud": self.url,
            "exp": int(time.time() + lifetime),
            "jti": str(uuid.uuid4()),
        }
        token = (
            ".".join(
                base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                for part in ({"alg": "none", "typ": "JWT"}, claims)
            )
            + "."
        )
        with self._lock:
            self._tokens.add(token)
        return token

    def throttle(
        self,
        pattern: str,
        times: int,
        retry_after: str | None = "0",
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """429 TooManyRequests with Retry-After (seconds or an HTTP date; None: no such header) and any other
        headers ARM's services send (`retry-after-ms`, `x-ms-retry-after-ms`)."""
        fault = Fault(re.compile(pattern, re.I), 429, times, "TooManyRequests", retry_after, method, headers or {})
        self.faults.rules.append(fault)

    def fail(self, pattern: str, status: int = 503, times: int = 1, method: str | None = None) -> None:
        self.faults.rules.append(Fault(re.compile(pattern, re.I), status, times, "ServiceUnavailable", None, method))

    def forbid(self, scope: str) -> None:
        """The deployer has no read on `scope` (and below): 403 AuthorizationFailed, and Resource Graph omits it."""
        self.faults.forbidden_scopes.append(scope.lower())

    def calls(self, method: str | None = None, path_contains: str = "") -> list[Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and path_contains.lower() in r.path.lower()
        ]

    # --- answering ----------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        split = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        path = split.path
        parsed_body: Any = body.decode() if body else None
        if body and headers.get("content-type", "").startswith("application/json"):
            parsed_body = json.loads(body)
        with self._lock:
            self.requests.append(Request(method, path, query, parsed_body, dict(headers)))
        if self.faults.latency:
            time.sleep(self.faults.latency)
        for pattern, seconds in self.faults.stalls.items():
            if re.search(pattern, path, re.I):
                time.sleep(seconds)
        # ARM's ids of every request, as its answers carry them (support tickets quote them)
        ids = {"x-ms-correlation-request-id": str(uuid.uuid4()), "x-ms-request-id": str(uuid.uuid4())}
        if path.lower().startswith("/v1.0/"):  # Microsoft Graph names them its own way
            ids = {"request-id": str(uuid.uuid4())}
            if headers.get("client-request-id"):
                ids["client-request-id"] = headers["client-request-id"]  # echoed when the client sent one
        try:
            self._inject(method, path)
            status, extra, document = self._route(method, path, query, headers, parsed_body)
            return status, {**ids, **extra}, document
        except AzureError as error:
            envelope = {"error": {"code": error.code, "message": error.message}}
            return error.status, {**ids, **error.headers}, envelope

    def _inject(self, method: str, path: str) -> None:
        with self._lock:
            for fault in self.faults.rules:
                if fault.times > 0 and fault.pattern.search(path) and fault.method in (None, method):
                    fault.times -= 1
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                    raise AzureError(fault.status, fault.code, f"injected {fault.status}", {**headers, **fault.headers})

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        lower = path.lower()
        if lower == "/metadata/endpoints":
            return 200, {}, self._metadata()
        if lower == GITHUB_OIDC_PATH:
            return self._github_oidc(headers, query)
        if lower.endswith("/v2.0/.well-known/openid-configuration"):
            return 200, {}, self._openid(path.split("/")[1])
        if lower.endswith("/oauth2/v2.0/token") and method == "POST":
            return self._token(path.split("/")[1], body)
        self._authenticate(headers)
        if lower.startswith("/v1.0/"):
            return 200, {}, self._graph(method, path, query)
        self._check_api_version(lower, query)
        if lower == "/providers/microsoft.resourcegraph/resources" and method == "POST":
            return 200, {}, self._resource_graph(body)
        if "/providers/microsoft.authorization/roledefinitions/" in lower and method == "GET":
            return 200, {}, self._role_definition(path)
        if "/providers/microsoft.authorization/roleassignments" in lower:
            return self._role_assignments(method, path, query, body)
        if lower.rstrip("/") == "/providers/microsoft.management/managementgroups" and method == "GET":
            return 200, {}, self._management_groups(path, query)
        if lower.startswith("/providers/microsoft.management/managementgroups/"):
            return 200, {}, self._descendants(path, query)
        if "/providers/microsoft.containerservice/managedclusters" in lower:
            return 200, {}, self._clusters(path, query)
        if lower.startswith("/subscriptions"):
            return 200, {}, self._subscriptions(path, query)
        raise AzureError(404, "NotFound", f"the fake does not serve {method} {path}")

    # --- identity -----------------------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        return {
            "name": "FakeAzure",
            "resourceManager": f"{self.url}/",
            "authentication": {
                "loginEndpoint": self.url,
                "audiences": [self.token_audience or f"{self.url}/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "microsoftGraphResourceId": f"{self.url}/",
            "suffixes": {"storage": "core.fake", "keyVaultDns": "vault.fake"},
        }

    def _openid(self, tenant: str) -> dict[str, Any]:
        base = f"{self.url}/{tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "fake.azure",
        }

    def _token(self, tenant: str, body: Any) -> tuple[int, dict[str, str], Any]:
        form = {k: v[-1] for k, v in parse_qs(body or "").items()}
        client = form.get("client_id", "")
        if tenant != self.estate.tenant:
            return 400, {}, _oauth_error("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return 400, {}, _oauth_error("unsupported_grant_type", "AADSTS70003: only client_credentials here")
        if "client_secret" in form:
            if self.estate.clients.get(client) != form["client_secret"]:
                return 401, {}, _oauth_error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
        elif "client_assertion" in form:
            if client not in self.estate.federated_clients or form["client_assertion"] not in self._tokens:
                return 400, {}, _oauth_error("invalid_client", "AADSTS700213: No matching federated identity record.")
        else:
            return 400, {}, _oauth_error("invalid_client", "AADSTS7000216: client_assertion or client_secret needed.")
        token = self.issue_token(client)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    def _github_oidc(self, headers: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Bearer {GITHUB_REQUEST_TOKEN}":
            return 401, {}, {"message": "bad request token"}
        if query.get("audience") != self.faults.oidc_audience:
            return 400, {}, {"message": f"unexpected audience {query.get('audience')}"}
        return 200, {}, {"value": self.issue_token("github-actions")}

    def _authenticate(self, headers: dict[str, str]) -> None:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            known = token in self._tokens
        if not known:
            raise AzureError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if _claims(token).get("exp", 0) <= time.time():
            raise AzureError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than now.")

    # --- Microsoft Graph -----------------------------------------------------------------------

    def _graph(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any]:
        if method != "GET":
            raise AzureError(405, "Request_BadRequest", f"the fake's Graph serves GET only, not {method}")
        if any(re.search(pattern, path, re.I) for pattern in self.faults.graph_forbidden):
            raise AzureError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        parts = [part for part in path.split("/") if part][1:]  # without "v1.0"
        collection = parts[0].lower()
        if collection == "oauth2permissiongrants" and len(parts) == 1:
            client = _graph_filter(query, "clientId")
            grants = [g.graph() for g in self.estate.delegated_grants if g.client_id.lower() == client.lower()]
            return self._graph_page(grants, path, query, "oauth2PermissionGrants")
        if collection != "serviceprincipals":
            raise AzureError(400, "BadRequest", f"Resource not found for the segment '{parts[0]}'.")
        if len(parts) == 1:
            app_id = _graph_filter(query, "appId").lower()
            found = [p for p in self._principals() if str(p["appId"]).lower() == app_id]
            return self._graph_page([_selected(p, query) for p in found], path, query, "servicePrincipals")
        principal = next((p for p in self._principals() if str(p["id"]).lower() == parts[1].lower()), None)
        if principal is None:
            raise AzureError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{parts[1]}' does not exist or one of its queried reference-property objects are not "
                "present.",
            )
        object_id = str(principal["id"]).lower()
        if len(parts) == 2:
            return {
                "@odata.context": f"{self.url}/v1.0/$metadata#servicePrincipals/$entity",
                **_selected(principal, query),
            }
        relation = parts[2].lower()
        if relation == "approleassignments":
            grants = [g.graph() for g in self.estate.app_role_grants if g.principal_id.lower() == object_id]
            return self._graph_page(grants, path, query, "appRoleAssignments")
        if relation == "owners":
            owners = [_selected(o.graph(), query) for o in self.estate.owners.get(object_id, [])]
            return self._graph_page(owners, path, query, "directoryObjects")
        raise AzureError(400, "BadRequest", f"Resource not found for the segment '{parts[2]}'.")

    def _principals(self) -> list[dict[str, Any]]:
        """Every service principal as Graph's servicePrincipal: Backline's (and any other app the estate names)
        with the credentials on it, and the resource APIs."""
        found = [
            {
                "id": object_id,
                "appId": app_id,
                "displayName": "Backline" if app_id.lower() == BACKLINE_APP_ID else app_id,
                "appRoles": [],
                "passwordCredentials": [
                    c.graph() for c in self.estate.credentials.get(object_id.lower(), []) if c.kind == "password"
                ],
                "keyCredentials": [
                    c.graph() for c in self.estate.credentials.get(object_id.lower(), []) if c.kind != "password"
                ],
            }
            for app_id, object_id in self.estate.service_principals.items()
        ]
        return found + [{**api.graph(), "passwordCredentials": [], "keyCredentials": []} for api in self.estate.apis]

    def _graph_page(self, items: list[Any], path: str, query: dict[str, str], kind: str) -> dict[str, Any]:
        """A Graph collection: `value` and, while more remain, `@odata.nextLink` with an opaque `$skiptoken`."""
        start = int(query.get("$skiptoken", "0"))
        document: dict[str, Any] = {
            "@odata.context": f"{self.url}/v1.0/$metadata#{kind}",
            "value": items[start : start + self.page_size],
        }
        if start + self.page_size < len(items):
            document["@odata.nextLink"] = (
                f"{self.url}{path}?{urlencode({**query, '$skiptoken': start + self.page_size})}"
            )
        return document

    # --- Resource Manager -------------------------------------------------------------------

    def _check_scope(self, scope: str) -> None:
        lower = scope.lower()
        group = re.match(r"/providers/microsoft\.management/managementgroups/([^/]+)", lower)
        if group and group.group(1) not in {g.lower() for g in self.estate.management_groups}:
            raise AzureError(404, "NotFound", f"Management group '{group.group(1)}' not found.")
        subscription = re.match(r"/subscriptions/([^/]+)", lower)
        if subscription and subscription.group(1) not in {s.lower() for s in self.estate.subscriptions}:
            raise AzureError(
                404, "SubscriptionNotFound", f"The subscription '{subscription.group(1)}' could not be found."
            )
        for forbidden in self.faults.forbidden_scopes:
            if lower.startswith(forbidden.lower()):
                raise AzureError(
                    403,
                    "AuthorizationFailed",
                    f"The client 'deployer' does not have authorization to perform action "
                    f"'Microsoft.Resources/read' over scope '{scope}' or the scope is invalid.",
                )

    def _page(self, items: list[Any], path: str, query: dict[str, str], link: str = "nextLink") -> dict[str, Any]:
        start = int(query.get("$skiptoken", "0"))
        page = items[start : start + self.page_size]
        document: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            document[link] = f"{self.url}{path}?{urlencode({**query, '$skiptoken': start + self.page_size})}"
        if any(re.search(pattern, path, re.I) for pattern in self.faults.looping_pages):
            document[link] = f"{self.url}{path}?{urlencode(query)}"  # this very page again
        return document

    def _subscriptions(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        def subscription(sid: str) -> dict[str, Any]:
            return {
                "id": f"/subscriptions/{sid}",
                "subscriptionId": sid,
                "tenantId": self.estate.tenant,
                "displayName": f"sub {sid[:8]}",
                "state": "Enabled",
            }

        parts = [p for p in path.split("/") if p]
        if len(parts) == 1:
            visible = [s for s in self.estate.subscriptions if not self._forbidden(f"/subscriptions/{s}")]
            return self._page([subscription(s) for s in visible], path, query)
        self._check_scope(path)
        return subscription(parts[1].lower())

    def _forbidden(self, scope: str) -> bool:
        return any(scope.lower().startswith(f) for f in self.faults.forbidden_scopes)

    def _check_api_version(self, lower_path: str, query: dict[str, str]) -> None:
        """ARM's answers to a request without api-version, and to an AKS api-version this cloud does not serve."""
        version = query.get("api-version")
        if not version:
            raise AzureError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        served = self.faults.clusters_api_versions
        if "/providers/microsoft.containerservice/managedclusters" in lower_path and served and version not in served:
            raise AzureError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location 'usgovvirginia' and API version '{version}' "
                f"for type 'managedClusters'. The supported api-versions are '{', '.join(sorted(served))}'.",
            )

    def _clusters(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        self._check_scope(path)
        match = re.fullmatch(
            r"/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?/providers/Microsoft\.ContainerService/managedClusters"
            r"(?:/([^/]+))?",
            path,
            re.I,
        )
        if not match:
            raise AzureError(400, "InvalidResourceId", path)
        subscription, group, name = (part.lower() if part else None for part in match.groups())
        found = [
            c
            for c in self.estate.clusters
            if c.subscription.lower() == subscription and group in (None, c.resource_group.lower())
        ]
        if name is None:
            return self._page([c.arm() for c in found], path, query)
        if group and not any(c.resource_group.lower() == group for c in self.estate.clusters):
            raise AzureError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
        for cluster in found:
            if cluster.name.lower() == name:
                return cluster.arm()
        raise AzureError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.ContainerService/managedClusters/{name}' under resource group '{group}' "
            "was not found.",
        )

    def _management_groups(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        """`GET /providers/Microsoft.Management/managementGroups`: the groups the caller may read, in the shape of
        the REST spec's ListManagementGroups example (id, type, name, tenantId, displayName)."""
        visible = [
            group
            for group in self.estate.management_groups
            if not self._forbidden(f"/providers/Microsoft.Management/managementGroups/{group}")
        ]
        items = [
            {
                "id": f"/providers/Microsoft.Management/managementGroups/{group}",
                "type": "Microsoft.Management/managementGroups",
                "name": group,
                "properties": {"tenantId": self.estate.tenant, "displayName": group},
            }
            for group in visible
        ]
        return self._page(items, path, query, link="@nextLink")

    def _descendants(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        match = re.fullmatch(r"/providers/Microsoft\.Management/managementGroups/([^/]+)/descendants", path, re.I)
        self._check_scope(path)
        if not match or match.group(1) not in self.estate.management_groups:
            raise AzureError(404, "NotFound", f"Management group '{match.group(1) if match else path}' not found.")
        items: list[dict[str, Any]] = []

        def walk(group: str) -> None:
            for child in self.estate.management_groups.get(group, []):
                if child in self.estate.management_groups:
                    items.append(_group_item(child, group))
                    walk(child)
                else:
                    items.append(_subscription_item(child, group))

        walk(match.group(1))
        return self._page(items, path, query)

    def _role_definition(self, path: str) -> dict[str, Any]:
        scope, guid = re.split(r"/providers/Microsoft\.Authorization/roleDefinitions/", path, maxsplit=1, flags=re.I)
        self._check_scope(scope)
        with self._lock:
            self.role_definition_reads.append(guid.lower())
        found = self.estate.role_definitions.get(guid.lower())
        if found is None:
            raise AzureError(
                404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
            )
        return found.arm(scope)

    def _role_assignments(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        scope, tail = re.split(r"/providers/Microsoft\.Authorization/roleAssignments", path, maxsplit=1, flags=re.I)
        tail = tail.strip("/")
        self._check_scope(scope)
        if not tail:
            if method != "GET":
                raise AzureError(405, "MethodNotAllowed", method)
            return 200, {}, self._page([a.arm() for a in self._listed(scope, query.get("$filter", ""))], path, query)
        name = tail
        existing = next((a for a in self.estate.assignments if a.name.lower() == name.lower()), None)
        if method == "GET":
            if existing is None or not self._visible(existing):
                raise AzureError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
            return 200, {}, existing.arm()
        if method == "DELETE":
            if existing is None:
                return 204, {}, None
            self.estate.assignments.remove(existing)
            return 200, {}, existing.arm()
        if method == "PUT":
            return self._put_assignment(scope, name, existing, body)
        raise AzureError(405, "MethodNotAllowed", method)

    def _put_assignment(
        self, scope: str, name: str, existing: Assignment | None, body: Any
    ) -> tuple[int, dict[str, str], Any]:
        properties = (body or {}).get("properties", {})
        wanted = Assignment(
            name,
            scope,
            properties["roleDefinitionId"],
            properties["principalId"],
            properties.get("principalType", "User"),
            properties.get("description"),
            properties.get("condition"),
        )
        for other in self.estate.assignments:
            same = (
                other.scope.lower() == scope.lower()
                and other.principal_id.lower() == wanted.principal_id.lower()
                and other.role_guid == wanted.role_guid
            )
            if same and other.name.lower() != name.lower():
                raise AzureError(409, "RoleAssignmentExists", "The role assignment already exists.")
        if existing is not None:
            self.estate.assignments.remove(existing)
        self.estate.assignments.append(wanted)
        return (200 if existing else 201), {}, wanted.arm()

    def _listed(self, scope: str, filter_text: str) -> list[Assignment]:
        at_scope = "atscope()" in filter_text.lower()
        principal = re.search(r"principalId eq '([^']+)'", filter_text, re.I)
        lower = scope.lower().rstrip("/")
        chosen = []
        for assignment in self.estate.assignments:
            theirs = assignment.scope.lower().rstrip("/")
            above_or_at = self.estate.contains(theirs, lower)
            below = self.estate.contains(lower, theirs)
            if not (above_or_at or (below and not at_scope)):
                continue
            if principal and assignment.principal_id.lower() != principal.group(1).lower():
                continue
            if self._visible(assignment):
                chosen.append(assignment)
        return chosen

    def _visible(self, assignment: Assignment) -> bool:
        with self._lock:
            reads = self._reads[assignment.name] = self._reads.get(assignment.name, 0) + 1
        return reads > assignment.visible_after_reads

    # --- Resource Graph ----------------------------------------------------------------------

    def _resource_graph(self, body: Any) -> dict[str, Any]:
        if self.faults.resource_graph_down:
            raise AzureError(503, "ServiceUnavailable", "Resource Graph is unavailable")
        query = str(body.get("query", "")).lower()
        if "microsoft.containerservice/managedclusters" not in query:
            raise AzureError(400, "BadRequest", "the fake answers only the cluster query")
        subscriptions = {s.lower() for s in body.get("subscriptions", self.estate.subscriptions)}
        stale = {c.id.lower(): c for c in self.faults.stale_in_resource_graph}
        indexed = [c for c in self.estate.clusters if c.id.lower() not in stale] + list(stale.values())
        rows = [
            {
                "id": c.id,
                "subscriptionId": c.subscription,
                "resourceGroup": c.resource_group.lower(),
                "name": c.name,
                "azureRbac": c.azure_rbac,
            }
            for c in indexed
            if c.subscription.lower() in subscriptions
            and not self._forbidden(f"/subscriptions/{c.subscription}")
            and c.id not in self.faults.lagging_in_resource_graph
        ]
        options = body.get("options") or {}
        top = int(options.get("$top", 100))
        start = int(options.get("$skipToken") or options.get("$skip") or 0)
        page = rows[start : start + top]
        document: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "resultTruncated": "true" if self.faults.resource_graph_truncated else "false",
            "facets": [],
            "data": page,
        }
        if start + top < len(rows):
            document["$skipToken"] = str(start + top)
        return document


@functools.cache
def _certificates() -> tuple[trustme.CA, trustme.LeafCert]:
    """One throwaway CA and server certificate per process: making keys is the slow part of starting."""
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1", "localhost")


def _group_item(group: str, parent: str) -> dict[str, Any]:
    return {
        "id": f"/providers/Microsoft.Management/managementGroups/{group}",
        "type": "Microsoft.Management/managementGroups",
        "name": group,
        "properties": {
            "displayName": group,
            "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{parent}"},
        },
    }


def _subscription_item(subscription: str, parent: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription}",
        "type": "Microsoft.Management/managementGroups/subscriptions",
        "name": subscription,
        "properties": {
            "displayName": f"sub {subscription[:8]}",
            "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{parent}"},
        },
    }


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    code = re.match(r"AADSTS(\d+)", description)
    return {"error": error, "error_description": description, "error_codes": [int(code.group(1))] if code else []}


def _handler(fake: FakeAzureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, document = fake.handle(self.command, self.path, headers, body)
            payload = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's method names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _graph_filter(query: dict[str, str], key: str) -> str:
    """The value of a Graph `$filter=<key> eq '<value>'`, the only filter the fake answers."""
    match = re.fullmatch(rf"{key} eq '([^']+)'", query.get("$filter", ""), re.I)
    if not match:
        raise AzureError(400, "Request_UnsupportedQuery", f"only $filter={key} eq '...' here")
    return match.group(1)


def _selected(item: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """Graph's `$select`: only the named properties (and the object's type), case as Graph spells them."""
    fields = [name.strip() for name in query.get("$select", "").split(",") if name.strip()]
    if not fields:
        return item
    wanted = {name.lower() for name in fields}
    return {key: value for key, value in item.items() if key.lower() in wanted or key == "@odata.type"}
