"""The provider pair: one azure-native and one azuread provider, configured the way users configure Pulumi's
Azure providers, pinned to the configured tenant, and on the right cloud."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ONE_CLUSTER_STACK, SUB_A, SUB_B, TENANT, Estate

from backline_access import BacklineAccess
from backline_access.config.problems import ConfigError
from backline_access.config.source import handed_over_config
from backline_access.review.offline import OfflineRun, run_offline

ARM_PROVIDER = "pulumi:providers:azure-native"
GRAPH_PROVIDER = "pulumi:providers:azuread"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"

BASIC = ONE_CLUSTER_STACK


def unwrapped(value: object) -> object:
    """A secret input as the engine receives it: {<signature>: <secret signature>, "value": ...}."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


def providers(run: OfflineRun) -> tuple[dict[str, object], dict[str, object]]:
    [arm] = run.of_type(ARM_PROVIDER)
    [graph] = run.of_type(GRAPH_PROVIDER)
    return arm.inputs, graph.inputs


@pytest.fixture(autouse=True)
def no_cloud_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("ARM_ENVIRONMENT", "ARM_METADATA_HOSTNAME"):
        monkeypatch.delenv(variable, raising=False)


def test_a_thousand_subscriptions_take_exactly_two_providers() -> None:
    subscriptions = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(1, 1001)]
    config = {
        "backline-access:tenantId": TENANT,
        "backline-access:subscriptions": json.dumps(subscriptions),
    }
    run = run_offline(config, azure=Estate())
    assert [r.name for r in run.of_type(ARM_PROVIDER)] == ["backline-arm"]
    assert [r.name for r in run.of_type(GRAPH_PROVIDER)] == ["backline-graph"]
    assert len(run.of_type(ASSIGNMENT)) == 1000
    assert {r.provider.split("::")[-2] for r in run.of_type(ASSIGNMENT)} == {"backline-arm"}


def test_without_any_cloud_setting_both_providers_are_on_the_public_cloud(run_stack: Callable[..., OfflineRun]) -> None:
    arm, graph = providers(run_stack(BASIC))
    assert arm["environment"] == "public" and graph["environment"] == "public"
    assert "metadataHost" not in arm


def test_arm_environment_usgovernment_reaches_both_providers_and_every_url_and_command(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "usgovernment")
    run = run_stack(BASIC)
    arm, graph = providers(run)
    assert arm["environment"] == "usgovernment"
    assert graph["environment"] == "usgovernment"
    assert run.outputs["adminConsentUrl"] == (
        f"https://login.microsoftonline.us/{TENANT}/adminconsent?client_id=3fc75f55-e53f-4950-9127-665106cded58"
    )
    assert all(
        command.startswith("az cloud set --name AzureUSGovernment && az ")
        for command in run.outputs["verificationCommands"]
    )


def test_stack_config_environment_china_wins_over_the_environment_variable(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "usgovernment")
    run = run_stack(BASIC + "  azure-native:environment: china\n")
    arm, graph = providers(run)
    assert arm["environment"] == "china" and graph["environment"] == "china"
    assert run.outputs["adminConsentUrl"].startswith(f"https://login.chinacloudapi.cn/{TENANT}/adminconsent")


def test_a_metadata_host_goes_to_both_providers(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", "management.azurestack.example")
    arm, graph = providers(run_stack(BASIC))
    assert arm["metadataHost"] == "management.azurestack.example"
    assert graph["metadataHost"] == "management.azurestack.example"


def test_the_users_provider_settings_reach_the_providers_and_secrets_stay_secret(
    stack_file: Callable[[str], Path],
) -> None:
    text = BASIC + (
        "  azure-native:clientId: 0b1f6471-1bf0-4dda-aec3-cb9272f09590\n"
        "  azure-native:useOidc: 'true'\n"
        "  azure-native:clientSecret: not-really-secret\n"
        "  azure-native:auxiliaryTenantIds: [72f988bf-86f1-41af-91ab-2d7cd011db47]\n"
        "  azuread:clientId: 0b1f6471-1bf0-4dda-aec3-cb9272f09590\n"
        "  azuread:useOidc: true\n"
    )
    handed_over = handed_over_config(stack_file(text))
    run = run_offline(handed_over, azure=Estate(), secret_keys=["azure-native:clientSecret"])
    [arm] = run.of_type(ARM_PROVIDER)
    [graph] = run.of_type(GRAPH_PROVIDER)
    assert unwrapped(arm.inputs["clientId"]) == "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    # Provider config goes to the engine JSON-encoded, as the SDK sends it (`pulumi.runtime.to_json`).
    assert arm.inputs["useOidc"] == "true"
    assert json.loads(arm.inputs["auxiliaryTenantIds"]) == ["72f988bf-86f1-41af-91ab-2d7cd011db47"]
    assert unwrapped(arm.inputs["clientSecret"]) == "not-really-secret"
    assert {"clientId", "clientSecret"} <= set(arm.secret_inputs)
    assert "useOidc" not in arm.secret_inputs
    assert unwrapped(graph.inputs["clientId"]) == "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    assert graph.inputs["useOidc"] == "true"
    assert arm.inputs["tenantId"] == TENANT and graph.inputs["tenantId"] == TENANT


def test_a_provider_tenant_that_contradicts_the_pin_names_both_keys(run_stack: Callable[..., OfflineRun]) -> None:
    other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    with pytest.raises(ConfigError) as error:
        run_stack(BASIC + f"  azure-native:tenantId: {other}\n")
    [problem] = error.value.problems
    assert problem.path == "azure-native:tenantId"
    assert problem.message == (
        f"is {other}, but backline-access:tenantId is {TENANT}; the providers are pinned to backline-access:tenantId"
    )


def test_a_setting_no_provider_knows_is_an_error_with_the_known_ones(run_stack: Callable[..., OfflineRun]) -> None:
    with pytest.raises(ConfigError) as error:
        run_stack(BASIC + "  azure-native:clientSecrett: x\n  azure-native:useMsi: sometimes\n")
    rendered = [p.render() for p in error.value.problems]
    assert rendered[0].startswith("azure-native:clientSecrett: is not a setting of the azure-native provider")
    assert "clientSecret, " in rendered[0]
    assert rendered[1] == "azure-native:useMsi: must be true or false"


def test_an_unknown_cloud_name_is_an_error(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "mars")
    with pytest.raises(ConfigError, match="ARM_ENVIRONMENT: names the cloud 'mars'"):
        run_stack(BASIC)


def test_a_customer_program_passing_its_own_providers_gets_exactly_those() -> None:
    import pulumi
    import pulumi_azure_native as azure_native
    import pulumi_azuread as azuread

    def customer_program() -> BacklineAccess:
        arm = azure_native.Provider("customer-arm", subscription_id=SUB_A, tenant_id=TENANT)
        graph = azuread.Provider("customer-graph", tenant_id=TENANT)
        return BacklineAccess(
            "backline",
            {"tenantId": TENANT, "subscriptions": [SUB_A, SUB_B]},
            opts=pulumi.ResourceOptions(providers={"azure-native": arm, "azuread": graph}),
        )

    run = run_offline({}, azure=Estate(), program=customer_program, preview=True)
    assert sorted(r.name for r in run.of_type(ARM_PROVIDER)) == ["customer-arm"]
    assert sorted(r.name for r in run.of_type(GRAPH_PROVIDER)) == ["customer-graph"]
    assert {r.provider.split("::")[-2] for r in run.of_type(ASSIGNMENT)} == {"customer-arm"}
    [principal] = run.of_type("azuread:index/servicePrincipal:ServicePrincipal")
    assert "::customer-graph::" in principal.provider


def test_the_allowed_azure_native_sdk_documents_custom_clouds_by_metadata_host() -> None:
    # pulumi-azure-native added metadataHost / ARM_METADATA_HOSTNAME (and disableInstanceDiscovery) in PR #4288;
    # the lower bound in pyproject.toml is a version with it. This pins the assumption to the installed SDK.
    import inspect

    import pulumi_azure_native as azure_native

    assert "disable_instance_discovery" in inspect.signature(azure_native.ProviderArgs).parameters
    assert "ARM_METADATA_HOSTNAME" in (azure_native.Provider.__init__.__doc__ or "") + inspect.getsource(
        azure_native.ProviderArgs
    )


def test_preflight_fixes_outside_the_public_cloud_start_with_az_cloud_set(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "china")
    run = run_stack(BASIC, Estate(clusters={"aks-prod": {"aadProfile": {"enableAzureRBAC": False}}}))
    [warning] = [w for w in run.warnings if "Azure RBAC" in w]
    assert (
        "fix: az cloud set --name AzureChinaCloud && az aks update --resource-group rg-prod --name aks-prod" in warning
    )


GROUPS_ONLY = f"config:\n  backline-access:tenantId: {TENANT}\n  backline-access:managementGroups: [platform]\n"


def test_groups_only_with_oidc_and_no_subscription_says_which_setting_the_provider_needs(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID", raising=False)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ARM_CLIENT_ID", "00000000-0000-0000-0000-00000000c11e")
    with pytest.raises(ConfigError) as error:
        run_stack(GROUPS_ONLY)
    [problem] = error.value.problems
    assert problem.path == "azure-native:subscriptionId"
    assert "only managementGroups are granted" in problem.message
    assert problem.fix is not None and problem.fix.startswith("pulumi config set azure-native:subscriptionId <id>")


def test_groups_only_starts_the_provider_in_the_given_subscription_or_the_cli_default(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    arm, _ = providers(run_stack(GROUPS_ONLY + f"  azure-native:subscriptionId: {SUB_A}\n"))
    assert arm["subscriptionId"] == SUB_A
    for variable in ("ARM_USE_OIDC", "ARM_CLIENT_ID", "ARM_USE_MSI", "ARM_CLIENT_SECRET", "ARM_OIDC_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    arm, _ = providers(run_stack(GROUPS_ONLY))  # Azure CLI sign-in: its default subscription
    assert "subscriptionId" not in arm


def test_credentials_in_provider_settings_count_and_a_switch_set_to_false_does_not(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("ARM_SUBSCRIPTION_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_MSI", "ARM_OIDC_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ARM_USE_OIDC", "false")
    arm, _ = providers(run_stack(GROUPS_ONLY))  # OIDC switched off: Azure CLI sign-in
    assert "subscriptionId" not in arm
    with pytest.raises(ConfigError) as error:
        run_stack(GROUPS_ONLY + "  azure-native:clientId: 00000000-0000-0000-0000-00000000c11e\n"
                  "  azure-native:clientSecret: s3cret\n")  # fmt: skip
    assert [p.path for p in error.value.problems] == ["azure-native:subscriptionId"]


def test_settings_azure_native_reads_beyond_its_sdks_arguments_reach_the_provider(
    run_stack: Callable[..., OfflineRun],
) -> None:
    # provider/pkg/provider/auth_azidentity.go reads getConfig("oidcAudience", "ARM_OIDC_AUDIENCE"); the Python
    # SDK's ProviderArgs lists neither it nor skipReadOnUpdate.
    extra = "  azure-native:oidcAudience: api://AzureADTokenExchangeUSGov\n  azure-native:skipReadOnUpdate: true\n"
    arm, graph = providers(run_stack(BASIC + extra))
    assert arm["oidcAudience"] == "api://AzureADTokenExchangeUSGov"
    assert arm["skipReadOnUpdate"] == "true"
    assert arm["tenantId"] == TENANT and "oidcAudience" not in graph


def test_groups_only_with_the_default_credential_needs_a_subscription(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("ARM_SUBSCRIPTION_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_MSI", "ARM_USE_OIDC"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ARM_USE_DEFAULT_AZURE_CREDENTIAL", "true")
    with pytest.raises(ConfigError) as error:
        run_stack(GROUPS_ONLY)
    assert [p.path for p in error.value.problems] == ["azure-native:subscriptionId"]


@pytest.mark.parametrize("value", ["TRUE", "True", "1", "yes"])
def test_a_switch_counts_only_when_it_is_exactly_true_as_azure_native_reads_it(
    run_stack: Callable[..., OfflineRun], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    for variable in ("ARM_SUBSCRIPTION_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_MSI", "ARM_OIDC_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ARM_USE_OIDC", value)  # azure-native: os.Getenv(...) == "true", so Azure CLI sign-in
    arm, _ = providers(run_stack(GROUPS_ONLY))
    assert "subscriptionId" not in arm
