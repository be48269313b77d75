"""Who the read side reads as, and where: the cloud's endpoints and a credential.

Inside the Pulumi program the read side uses the azure-native provider's own token (its
`authorization.getClientToken` invoke), so it can never disagree with the identity that grants. Outside Pulumi
(the CLI) it builds an azure-identity credential from the same ARM_* variables the providers read.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from azure.identity import (
    AzureCliCredential,
    AzurePipelinesCredential,
    CertificateCredential,
    ClientAssertionCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    DefaultAzureCredential,
    ManagedIdentityCredential,
)

from ..config import Cloud, CloudChoice, named_cloud
from .errors import AzureFailure, AzureReadError, SignInError
from .transport import get_unauthenticated, user_agent

METADATA_API = "2022-09-01"
# The audience azure-native (auth_azidentity.go) and go-azure-sdk ask GitHub for, in every cloud, unless
# oidcAudience / ARM_OIDC_AUDIENCE says otherwise: a federated credential matches exactly one audience.
OIDC_AUDIENCE = "api://AzureADTokenExchange"
# Ask again this long before a token expires (azure-core's BearerTokenCredentialPolicy refreshes 300 s ahead).
REFRESH_AHEAD = 300


class SharedCredential:
    """One token request per audience however many threads ask at once (azure-core's
    BearerTokenCredentialPolicy takes no lock, so a fan-out's first requests would each ask the credential: with
    an `az login` credential, one `az` process each). Tokens are cached per scope and asked for again shortly
    before they expire. Any failure to get one is a SignInError, never a traceback."""

    def __init__(self, inner: TokenCredential, clock: Any = time.time) -> None:
        self.inner = inner
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], AccessToken] = {}
        self.requests = 0  # tokens asked of the inner credential

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        with self._lock:
            cached = self._tokens.get(scopes)
            if cached is not None and cached.expires_on - self._clock() > REFRESH_AHEAD:
                return cached
            self.requests += 1
            try:
                token = self.inner.get_token(*scopes, **kwargs)
            except Exception as error:  # noqa: BLE001 - whatever a credential raises, it could not sign in
                unavailable = isinstance(error, CredentialUnavailableError)
                az_missing = unavailable and isinstance(self.inner, AzureCliCredential) and not shutil.which("az")
                raise SignInError(" ".join(scopes), _first_line(error), unavailable, az_missing) from None
            self._tokens[scopes] = token
            return token


class ProviderToken:
    """A TokenCredential over the token the azure-native provider hands out (getClientToken). Its lifetime is
    the token's own `exp`; near it, `refresh` (another getClientToken) is asked for a new one."""

    def __init__(self, token: str, refresh: Callable[[], str] | None = None, clock: Any = time.time) -> None:
        self._refresh = refresh
        self._clock = clock
        self._token = AccessToken(token, _expiry(token, clock))

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self._refresh is not None and self._token.expires_on - self._clock() <= REFRESH_AHEAD:
            token = self._refresh()
            self._token = AccessToken(token, _expiry(token, self._clock))
        return self._token


def _expiry(token: str, clock: Any) -> int:
    """The token's `exp` claim; a token that names none is taken to live 50 minutes (Entra's are 60-90)."""
    expires = token_claim(token, "exp")
    try:
        return int(expires) if expires is not None else int(clock()) + 3000
    except ValueError:
        return int(clock()) + 3000


def token_claim(token: str, claim: str) -> str | None:
    """A claim of a JWT's payload (read to learn who and until when, never to trust it)."""
    parts = token.split(".")
    if len(parts) < 2:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(payload)).get(claim)
    except (ValueError, AttributeError):
        return None
    return str(value).lower() if value is not None and value != "" else None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def resolve_cloud(choice: CloudChoice, timeout: float = 30.0) -> Cloud:
    """The endpoints of the chosen cloud; a metadata host's are read from its metadata document."""
    if choice.metadata_host is None:
        cloud = named_cloud(choice.environment)
        if cloud is None:
            raise ValueError(f"unknown cloud {choice.environment!r}")
        return cloud
    host = choice.metadata_host.removeprefix("https://").rstrip("/")
    url = f"https://{host}/metadata/endpoints"
    try:
        status, document = get_unauthenticated(url, {"api-version": METADATA_API}, timeout=timeout)
    except AzureReadError as error:
        raise AzureReadError(AzureFailure(url, 0, "CloudMetadataUnavailable", error.failure.message)) from None
    if status != 200 or not isinstance(document, dict) or "raw" in document:
        raise AzureReadError(AzureFailure(url, status, "CloudMetadataUnavailable", json.dumps(document)[:300]))
    return cloud_from_metadata(document, host)


def cloud_from_metadata(document: Mapping[str, Any], host: str) -> Cloud:
    """A cloud from its `/metadata/endpoints?api-version=2022-09-01` document (one object for that cloud)."""
    try:
        return Cloud(
            name="custom",
            login=str(document["authentication"]["loginEndpoint"]).rstrip("/"),
            resource_manager=str(document["resourceManager"]).rstrip("/"),
            graph=str(document.get("microsoftGraphResourceId", "")).rstrip("/"),
            az_cloud_name=str(document.get("name", host)),
            token_audience=_first_audience(document),
        )
    except (KeyError, TypeError) as error:
        raise AzureReadError(AzureFailure(host, 200, "CloudMetadataUnexpected", f"missing {error}")) from None


def _first_audience(document: Mapping[str, Any]) -> str | None:
    audiences = (document.get("authentication") or {}).get("audiences") or []
    return str(audiences[0]).rstrip("/") if audiences else None


def credential_from_environment(
    environ: Mapping[str, str], cloud: Cloud, tenant_id: str | None, settings: Mapping[str, str] | None = None
) -> TokenCredential:
    """A credential as azure-native chooses one (`newSingleMethodAuthCredential` in its auth_azidentity.go): the
    default credential when asked, then a client certificate, a client secret, OIDC, managed identity, else the
    Azure CLI's login. Each value comes from the provider setting (`settings`, `azure-native:*`) or else its ARM_*
    variable, and the switches count only when exactly `true`, as there. Wrapped in a SharedCredential."""

    def value(setting: str, variable: str) -> str:
        return (settings or {}).get(setting) or environ.get(variable, "")

    client_id = value("clientId", "ARM_CLIENT_ID")
    tenant = value("tenantId", "ARM_TENANT_ID") or tenant_id or ""
    # Every sign-in request names us too (azure-identity hands user_agent to its azure-core pipeline).
    options: dict[str, Any] = {"authority": cloud.login, "user_agent": user_agent()}
    if cloud.name == "custom":
        options["disable_instance_discovery"] = True
    certificate = value("clientCertificatePath", "ARM_CLIENT_CERTIFICATE_PATH")
    secret = value("clientSecret", "ARM_CLIENT_SECRET")
    credential: TokenCredential
    if value("useDefaultAzureCredential", "ARM_USE_DEFAULT_AZURE_CREDENTIAL") == "true":
        credential = DefaultAzureCredential(tenant_id=tenant or None, **options)
    elif certificate:
        password = value("clientCertificatePassword", "ARM_CLIENT_CERTIFICATE_PASSWORD") or None
        credential = CertificateCredential(tenant, client_id, certificate, password=password, **options)
    elif secret:
        credential = ClientSecretCredential(tenant, client_id, secret, **options)
    elif value("useOidc", "ARM_USE_OIDC") == "true":
        credential = _oidc_credential(environ, tenant, client_id, value("oidcAudience", "ARM_OIDC_AUDIENCE"), options)
    elif value("useMsi", "ARM_USE_MSI") == "true":
        credential = ManagedIdentityCredential(client_id=client_id or None, user_agent=user_agent())
    else:
        credential = AzureCliCredential(tenant_id=tenant)
    return SharedCredential(credential)


def _oidc_credential(
    environ: Mapping[str, str], tenant: str, client_id: str, audience: str, options: dict[str, Any]
) -> TokenCredential:
    """Azure DevOps workload identity (a service connection and the job's SYSTEM_ACCESSTOKEN) through
    azure-identity's AzurePipelinesCredential; otherwise a client assertion from ARM_OIDC_TOKEN, a token file, or
    GitHub Actions' token endpoint."""
    connection = environ.get("ARM_OIDC_AZURE_SERVICE_CONNECTION_ID") or environ.get(
        "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID"
    )
    if connection and environ.get("SYSTEM_ACCESSTOKEN"):
        return AzurePipelinesCredential(
            tenant_id=tenant,
            client_id=client_id,
            service_connection_id=connection,
            system_access_token=environ["SYSTEM_ACCESSTOKEN"],
            **options,
        )
    return ClientAssertionCredential(
        tenant, client_id, lambda: _federated_token(environ, audience or OIDC_AUDIENCE), **options
    )


def _federated_token(environ: Mapping[str, str], audience: str) -> str:
    if environ.get("ARM_OIDC_TOKEN"):
        return environ["ARM_OIDC_TOKEN"]
    if environ.get("ARM_OIDC_TOKEN_FILE_PATH"):
        with open(environ["ARM_OIDC_TOKEN_FILE_PATH"], encoding="utf-8") as token_file:
            return token_file.read().strip()
    url = environ.get("ARM_OIDC_REQUEST_URL") or environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    bearer = environ.get("ARM_OIDC_REQUEST_TOKEN") or environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise ValueError(
            "ARM_USE_OIDC is true, but there is no ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH or "
            "ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN (GitHub: permissions: id-token: write)"
        )
    status, document = get_unauthenticated(url, {"audience": audience}, {"Authorization": f"Bearer {bearer}"})
    if status != 200 or not isinstance(document, dict) or "value" not in document:
        raise ValueError(f"the OIDC token request to {url} answered HTTP {status}")
    return str(document["value"])


def token_subject(token: str) -> str:
    """Who a token speaks for, as an attestation names them: a user by sign-in name, else an app by its id."""
    oid = token_claim(token, "oid")
    suffix = f" (object id {oid})" if oid else ""
    user = token_claim(token, "upn") or token_claim(token, "unique_name") or token_claim(token, "preferred_username")
    if user:
        return f"user {user}{suffix}"
    app = token_claim(token, "appid") or token_claim(token, "azp")
    return f"app {app}{suffix}" if app else "unknown (the token names no user or app)"
