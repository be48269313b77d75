"""The Azure clouds: which endpoints a tenant lives behind, chosen the way the providers choose them.

Pure data. Reading a custom cloud's metadata document is HTTP and lives in `backline_access.azure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Cloud:
    name: str  # as azure-native's `environment` names it; "custom" for a metadata host
    login: str
    resource_manager: str
    graph: str
    az_cloud_name: str  # for `az cloud set --name ...`
    # The audience Resource Manager tokens are asked for: the metadata's `authentication.audiences[0]` for a
    # custom cloud (Azure Stack's differ from its Resource Manager URL), else Resource Manager itself.
    token_audience: str | None = None

    def admin_consent_url(self, tenant_id: str, app_id: str) -> str:
        return f"{self.login}/{tenant_id}/adminconsent?client_id={app_id}"

    @property
    def arm_scope(self) -> str:
        return f"{(self.token_audience or self.resource_manager).rstrip('/')}/.default"

    def az_prefix(self) -> str:
        """What to run before any `az` command the project prints, outside the public cloud."""
        return "" if self.name == "public" else f"az cloud set --name {self.az_cloud_name} && "


PUBLIC = Cloud(
    "public",
    "https://login.microsoftonline.com",
    "https://management.azure.com",
    "https://graph.microsoft.com",
    "AzureCloud",
)
US_GOVERNMENT = Cloud(
    "usgovernment",
    "https://login.microsoftonline.us",
    "https://management.usgovcloudapi.net",
    "https://graph.microsoft.us",
    "AzureUSGovernment",
)
CHINA = Cloud(
    "china",
    "https://login.chinacloudapi.cn",
    "https://management.chinacloudapi.cn",
    "https://microsoftgraph.chinacloudapi.cn",
    "AzureChinaCloud",
)
NAMED_CLOUDS = {cloud.name: cloud for cloud in (PUBLIC, US_GOVERNMENT, CHINA)}
# Other spellings the Azure tools accept for the same clouds.
_ALIASES = {
    "azurecloud": "public",
    "azurepubliccloud": "public",
    "global": "public",
    "usgov": "usgovernment",
    "azureusgovernment": "usgovernment",
    "azureusgovernmentcloud": "usgovernment",
    "azurechinacloud": "china",
}


def named_cloud(name: str) -> Cloud | None:
    key = name.strip().lower()
    return NAMED_CLOUDS.get(_ALIASES.get(key, key))


@dataclass(frozen=True)
class CloudChoice:
    """How the user picked the cloud: a named environment, or a metadata host (a custom cloud)."""

    environment: str = "public"
    metadata_host: str | None = None
    source: str = "default"  # the config key or environment variable that chose it

    @property
    def named(self) -> Cloud | None:
        return None if self.metadata_host else named_cloud(self.environment)


def choose_cloud(stack_settings: Mapping[str, str], environ: Mapping[str, str]) -> CloudChoice:
    """Stack config first (`azure-native:environment`, `azure-native:metadataHost`), then the environment
    variables the providers document (ARM_METADATA_HOSTNAME, ARM_ENVIRONMENT), then the public cloud."""
    if stack_settings.get("metadataHost"):
        return CloudChoice(metadata_host=stack_settings["metadataHost"], source="azure-native:metadataHost")
    if stack_settings.get("environment"):
        return CloudChoice(environment=stack_settings["environment"], source="azure-native:environment")
    if environ.get("ARM_METADATA_HOSTNAME"):
        return CloudChoice(metadata_host=environ["ARM_METADATA_HOSTNAME"], source="ARM_METADATA_HOSTNAME")
    if environ.get("ARM_ENVIRONMENT"):
        return CloudChoice(environment=environ["ARM_ENVIRONMENT"], source="ARM_ENVIRONMENT")
    return CloudChoice()
