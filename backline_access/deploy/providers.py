"""The provider pair: one azure-native and one azuread provider per component, however many subscriptions.

A role assignment's ARM path is `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`: it does not
use the provider's subscription, so one azure-native provider grants in every subscription of the tenant (and
the engine starts one plugin process per explicit provider). Explicit providers do not inherit stack config,
so every `azure-native:*` / `azuread:*` setting the user gave is passed on here, and the cloud is chosen the way
the providers document it when the stack config is silent.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_azuread as azuread
from pydantic.alias_generators import to_camel, to_snake

from ..config import CloudChoice, ConfigError, Problem, choose_cloud, named_cloud

ARM = "azure-native"
GRAPH = "azuread"


def _settings_of(args_class: type) -> dict[str, str]:
    """The provider's settings, camelCase (as in stack config) -> the kind of value ('bool', 'list', 'str')."""
    kinds = {}
    for name, parameter in inspect.signature(args_class).parameters.items():
        if name in ("self", "__self__"):
            continue
        annotation = str(parameter.annotation)
        kind = "list" if "Sequence" in annotation else "bool" if "bool" in annotation else "str"
        kinds[to_camel(name)] = kind
    return kinds


# Settings azure-native reads (its provider.go and auth_azidentity.go `getConfig`) that its Python SDK's
# ProviderArgs does not list: passed to the provider beside the SDK's arguments (ArmProvider).
ARM_EXTRA_SETTINGS = {"oidcAudience": "str", "skipReadOnUpdate": "bool"}
KNOWN_SETTINGS = {
    ARM: {**_settings_of(azure_native.ProviderArgs), **ARM_EXTRA_SETTINGS},
    GRAPH: _settings_of(azuread.ProviderArgs),
}


class _ExtraProviderInputs(pulumi.ProviderResource):
    """Sits between azure-native's Provider and ProviderResource in the method order, so the inputs the SDK
    builds reach the engine with the extra settings added (camelCase, as the provider reads its config)."""

    _extra: Mapping[str, Any] = {}

    def __init__(self, package: str, name: str, props: Any, opts: pulumi.ResourceOptions | None = None) -> None:
        for key, value in self._extra.items():
            props.__dict__[key] = json.dumps(value) if isinstance(value, bool) else value
        super().__init__(package, name, props, opts)


class ArmProvider(azure_native.Provider, _ExtraProviderInputs):  # type: ignore[misc]
    """azure-native's Provider, given every setting it reads, including those its SDK does not list."""

    def __init__(self, name: str, extra: Mapping[str, Any], **kwargs: Any) -> None:
        self._extra = dict(extra)
        super().__init__(name, **kwargs)


@dataclass(frozen=True)
class ProviderSettings:
    """What each explicit provider is given: camelCase setting -> value, and which of them are secrets."""

    arm: dict[str, Any]
    graph: dict[str, Any]
    cloud: CloudChoice
    secrets: frozenset[str] = field(default_factory=frozenset)  # "azure-native:clientSecret", ...

    def arguments(self, package: str) -> dict[str, Any]:
        """Keyword arguments for the package's `Provider(...)`, secrets wrapped as secrets."""
        settings = self.arm if package == ARM else self.graph
        return {
            to_snake(key): pulumi.Output.secret(value) if f"{package}:{key}" in self.secrets else value
            for key, value in settings.items()
            if not (package == ARM and key in ARM_EXTRA_SETTINGS)
        }

    def extra_arm_settings(self) -> dict[str, Any]:
        return {key: value for key, value in self.arm.items() if key in ARM_EXTRA_SETTINGS}


def provider_settings(
    handed_over: Mapping[str, Any],
    secret_keys: set[str],
    environ: Mapping[str, str],
    tenant_id: str,
    subscription_id: str,
    starts_provider: bool = True,
) -> ProviderSettings:
    """The settings of both providers, pinned to `tenant_id`. Raises ConfigError for settings no provider knows,
    values of the wrong kind, a tenant that contradicts the pin, or an unknown cloud (and, when a provider is to
    start, a subscription it cannot start without)."""
    problems: list[Problem] = []
    given = {package: _given(package, handed_over, problems) for package in (ARM, GRAPH)}
    for package, settings in given.items():
        pinned = str(settings.get("tenantId", tenant_id)).lower()
        if pinned != tenant_id:
            problems.append(
                Problem(
                    f"{package}:tenantId",
                    f"is {pinned}, but backline-access:tenantId is {tenant_id}; the providers are pinned to "
                    "backline-access:tenantId",
                    f"remove {package}:tenantId from the stack config, or make the two equal",
                )
            )
    cloud = choose_cloud({k: str(v) for k, v in given[ARM].items()}, environ)
    problems += unknown_cloud_problems(cloud)
    if starts_provider and not subscription_id:
        problems += _no_subscription_to_start_in(given[ARM], environ)
    if problems:
        raise ConfigError(problems, heading="Invalid Azure provider settings in the stack config")
    start = {"subscriptionId": subscription_id} if subscription_id else {}
    arm = {**start, **given[ARM], "tenantId": tenant_id}
    graph = {**given[GRAPH], "tenantId": tenant_id}
    _pin_cloud(arm, graph, cloud)
    secrets = frozenset(key for key in handed_over if key in secret_keys)
    return ProviderSettings(arm=arm, graph=graph, cloud=cloud, secrets=secrets)


# Credentials other than the Azure CLI's, as provider settings and as the variables behind them: azure-native's
# Configure refuses them without a subscription (provider/pkg/provider/auth_azidentity.go: "A Subscription ID
# must be configured when authenticating as ...").
_NON_CLI_SECRETS = {
    "clientSecret": "ARM_CLIENT_SECRET",
    "clientCertificatePath": "ARM_CLIENT_CERTIFICATE_PATH",
    "oidcToken": "ARM_OIDC_TOKEN",
    "oidcTokenFilePath": "ARM_OIDC_TOKEN_FILE_PATH",
}
_NON_CLI_SWITCHES = {
    "useOidc": "ARM_USE_OIDC",
    "useMsi": "ARM_USE_MSI",
    "useDefaultAzureCredential": "ARM_USE_DEFAULT_AZURE_CREDENTIAL",
}


def _signs_in_without_cli(arm: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    secrets = any(arm.get(key) or environ.get(variable) for key, variable in _NON_CLI_SECRETS.items())
    switches = any(
        _switched_on(arm[key]) if key in arm else environ.get(variable) == "true"
        for key, variable in _NON_CLI_SWITCHES.items()
    )
    return secrets or switches


def _switched_on(setting: Any) -> bool:
    """A switch as azure-native reads it: `getConfig(...) == "true"` (auth_azidentity.go); a YAML true reaches the
    provider as the text "true"."""
    return setting is True or setting == "true"


def _no_subscription_to_start_in(arm: Mapping[str, Any], environ: Mapping[str, str]) -> list[Problem]:
    """Only management groups to grant: no subscription for the azure-native provider to start in. The grants do
    not use it, but the provider starts only with Azure CLI sign-in, which falls back to the CLI's default."""
    if arm.get("subscriptionId") or environ.get("ARM_SUBSCRIPTION_ID"):
        return []
    if not _signs_in_without_cli(arm, environ):
        return []
    return [
        Problem(
            f"{ARM}:subscriptionId",
            "is needed: only managementGroups are granted, so no subscription is named for the azure-native "
            "provider to start in, and with service principal, OIDC or managed identity credentials it does not "
            "start without one (any subscription the deployer can see; the grants do not use it)",
            f'pulumi config set {ARM}:subscriptionId <id> (az account list --query "[].id" -o tsv), '
            "or set ARM_SUBSCRIPTION_ID",
        )
    ]


def unknown_cloud_problems(cloud: CloudChoice) -> list[Problem]:
    """A named cloud that is none of Azure's (a metadata host names a custom cloud, checked when it is read)."""
    if cloud.metadata_host is not None or named_cloud(cloud.environment) is not None:
        return []
    return [
        Problem(
            cloud.source,
            f"names the cloud {cloud.environment!r}, which is none of public, usgovernment, china",
            'az cloud list --query "[].name" -o tsv; for Azure Stack or another custom cloud set '
            "ARM_METADATA_HOSTNAME instead",
        )
    ]


def _pin_cloud(arm: dict[str, Any], graph: dict[str, Any], cloud: CloudChoice) -> None:
    """Both providers on the chosen cloud. The azure-native SDK sends `environment: public` when none is given
    and the provider prefers it to ARM_ENVIRONMENT, so the choice is always passed explicitly."""
    if cloud.metadata_host:
        arm.setdefault("metadataHost", cloud.metadata_host)
        graph.setdefault("metadataHost", cloud.metadata_host)
        return
    named = named_cloud(cloud.environment)
    name = named.name if named else cloud.environment
    arm["environment"] = name
    graph.setdefault("environment", name)


def _given(package: str, handed_over: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    known = KNOWN_SETTINGS[package]
    settings: dict[str, Any] = {}
    for full_key in sorted(handed_over):
        namespace, _, key = full_key.partition(":")
        if namespace != package:
            continue
        kind = known.get(key)
        if kind is None:
            problems.append(
                Problem(
                    full_key,
                    f"is not a setting of the {package} provider",
                    f"the settings it knows: {', '.join(sorted(known))}",
                )
            )
            continue
        value = _typed(handed_over[full_key], kind)
        if value is None:
            problems.append(Problem(full_key, f"must be {'true or false' if kind == 'bool' else 'a list'}"))
        else:
            settings[key] = value
    return settings


def _typed(value: Any, kind: str) -> Any:
    if kind == "bool":
        text = str(value).strip().lower()
        return {"true": True, "false": False}.get(text)
    if kind == "list":
        if isinstance(value, list):
            return value
        try:
            decoded = json.loads(str(value))
        except json.JSONDecodeError:
            return None
        return decoded if isinstance(decoded, list) else None
    return str(value)


def given_providers(opts: pulumi.ResourceOptions | None) -> dict[str, pulumi.ProviderResource]:
    """Providers a customer program passed to the component (`opts.providers`), keyed by package."""
    if opts is None or not opts.providers:
        return {}
    if isinstance(opts.providers, Mapping):
        return dict(opts.providers)
    return {provider.package: provider for provider in opts.providers}
