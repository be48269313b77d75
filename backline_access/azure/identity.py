"""Who the read side reads as, and where: the cloud's endpoints and a credential.

Inside the Pulumi program the read side uses the azure-native provider's own token (its
`authorization.getClientToken` invoke), so it can never disagree with the identity that grants. Outside Pulumi
(the CLI) it builds an azure-identity credential from the same ARM_* variables the providers read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from azure.core.credentials import AccessToken, TokenCredential
from azure.identity import (
    AzureCliCredential,
    CertificateCredential,
    ClientAssertionCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
)

from ..config import Cloud, CloudChoice, named_cloud
from .errors import AzureFailure, AzureReadError

METADATA_API = "2022-09-01"
# Entra's audience for federated (OIDC) tokens, per cloud.
_OIDC_AUDIENCES = {
    "public": "api://AzureADTokenExchange",
    "usgovernment": "api://AzureADTokenExchangeUSGov",
    "china": "api://AzureADTokenExchangeChina",
}


class ProviderToken:
    """A TokenCredential over a token that the azure-native provider handed out (getClientToken)."""

    def __init__(self, token: str, lifetime: int = 3000) -> None:
        self._token = AccessToken(token, int(time.time()) + lifetime)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._token


def resolve_cloud(choice: CloudChoice, timeout: float = 30.0) -> Cloud:
    """The endpoints of the chosen cloud; a metadata host's are read from its metadata document."""
    if choice.metadata_host is None:
        cloud = named_cloud(choice.environment)
        if cloud is None:
            raise ValueError(f"unknown cloud {choice.environment!r}")
        return cloud
    host = choice.metadata_host.removeprefix("https://").rstrip("/")
    url = f"https://{host}/metadata/endpoints?api-version={METADATA_API}"
    try:
        response = requests.get(url, timeout=timeout)
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise AzureReadError(AzureFailure(url, 0, "CloudMetadataUnavailable", str(error))) from None
    if response.status_code != 200 or not isinstance(document, dict):
        raise AzureReadError(AzureFailure(url, response.status_code, "CloudMetadataUnavailable", response.text[:300]))
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
        )
    except (KeyError, TypeError) as error:
        raise AzureReadError(AzureFailure(host, 200, "CloudMetadataUnexpected", f"missing {error}")) from None


def credential_from_environment(environ: Mapping[str, str], cloud: Cloud, tenant_id: str | None) -> TokenCredential:
    """A credential from the ARM_* variables, in the providers' order: client secret, client certificate,
    OIDC (a token, a token file, or GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_*), managed identity, then the
    Azure CLI's login."""
    client_id = environ.get("ARM_CLIENT_ID", "")
    tenant = environ.get("ARM_TENANT_ID") or tenant_id or ""
    options: dict[str, Any] = {"authority": cloud.login}
    if cloud.name == "custom":
        options["disable_instance_discovery"] = True
    if client_id and environ.get("ARM_CLIENT_SECRET"):
        return ClientSecretCredential(tenant, client_id, environ["ARM_CLIENT_SECRET"], **options)
    if client_id and environ.get("ARM_CLIENT_CERTIFICATE_PATH"):
        return CertificateCredential(
            tenant,
            client_id,
            environ["ARM_CLIENT_CERTIFICATE_PATH"],
            password=environ.get("ARM_CLIENT_CERTIFICATE_PASSWORD") or None,
            **options,
        )
    if client_id and _true(environ.get("ARM_USE_OIDC")):
        audience = environ.get("ARM_OIDC_AUDIENCE") or _OIDC_AUDIENCES.get(cloud.name, _OIDC_AUDIENCES["public"])
        return ClientAssertionCredential(tenant, client_id, lambda: _federated_token(environ, audience), **options)
    if _true(environ.get("ARM_USE_MSI")):
        return ManagedIdentityCredential(client_id=client_id or None)
    return AzureCliCredential(tenant_id=tenant)


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
    response = requests.get(
        url, params={"audience": audience}, headers={"Authorization": f"Bearer {bearer}"}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["value"])


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")
