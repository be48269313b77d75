"""The typed stack config (namespace `backline-access`) and its validation.

Field problems come from pydantic; problems between fields (duplicates, cross references) are found on
the raw data too, so one run reports everything wrong at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from .identifiers import (
    CLUSTER_ID_PATTERN,
    CLUSTER_NAME_PATTERN,
    GUID_PATTERN,
    MANAGEMENT_GROUP_PATTERN,
    RESOURCE_GROUP_PATTERN,
    ClusterId,
    case_insensitive,
    cluster_name_problem,
    guid_problem,
    management_group_problem,
    parse_cluster_resource_id,
    resource_group_problem,
)
from .problems import (
    MANAGEMENT_GROUPS_FIX,
    OBJECT_ID_FIX,
    SUBSCRIPTIONS_FIX,
    TENANT_FIX,
    ConfigError,
    Problem,
    clusters_fix,
    format_path,
)
from .roles import BACKLINE_APP_ID

NAMESPACE = "backline-access"
NOTHING_TO_GRANT = (
    "nothing to grant: list subscriptions (Reader), managementGroups (Reader on every subscription below them) "
    "and/or aks clusters (AKS RBAC Reader)"
)


def _guid(fix: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        problem = guid_problem(value)
        if problem:
            raise PydanticCustomError("guid", problem, {"fix": fix})
        return value.lower()

    return check


def _not_the_app_id(value: str) -> str:
    if value == BACKLINE_APP_ID:
        raise PydanticCustomError(
            "app_id",
            "is Backline's application (client) id, not the object id of its service principal in your tenant "
            "(Azure would answer PrincipalNotFound)",
            {"fix": OBJECT_ID_FIX},
        )
    return value


def _name(rule: Callable[[str], str | None], fix: str | None = None) -> Callable[[str], str]:
    def check(value: str) -> str:
        problem = rule(value)
        if problem:
            raise PydanticCustomError("name", problem, {"fix": fix} if fix else None)
        return value

    return check


_GUID_SCHEMA = WithJsonSchema({"type": "string", "pattern": GUID_PATTERN})
TenantId = Annotated[str, AfterValidator(_guid(TENANT_FIX)), _GUID_SCHEMA]
SubscriptionId = Annotated[str, AfterValidator(_guid(SUBSCRIPTIONS_FIX)), _GUID_SCHEMA]
ObjectId = Annotated[
    str,
    AfterValidator(_guid(OBJECT_ID_FIX)),
    AfterValidator(_not_the_app_id),
    WithJsonSchema({"type": "string", "pattern": GUID_PATTERN, "not": {"pattern": case_insensitive(BACKLINE_APP_ID)}}),
]
ResourceGroupName = Annotated[
    str,
    AfterValidator(_name(resource_group_problem)),
    WithJsonSchema({"type": "string", "pattern": RESOURCE_GROUP_PATTERN}),
]
ManagementGroupId = Annotated[
    str,
    AfterValidator(_name(management_group_problem, MANAGEMENT_GROUPS_FIX)),
    WithJsonSchema({"type": "string", "pattern": MANAGEMENT_GROUP_PATTERN}),
]
ClusterName = Annotated[
    str,
    AfterValidator(_name(cluster_name_problem)),
    WithJsonSchema({"type": "string", "pattern": CLUSTER_NAME_PATTERN}),
]


def _yaml_bool(value: Any) -> Any:
    """Only a boolean is one: true or false (the Pulumi CLI hands a top-level one over as the text "true" or
    "false"). YAML 1.1's yes/on and the numbers 1 and 0, which pydantic would take, are refused."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError(
        "yaml_bool", "must be true or false (a YAML boolean)", {"fix": "write true or false, without quotes"}
    )


YamlBool = Annotated[bool, BeforeValidator(_yaml_bool)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
    )


# An AKS resource id inside a longer text: a portal URL (…/#@tenant/resource/subscriptions/…/overview).
_CLUSTER_ID_INSIDE = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters/[^/?#]+", re.I
)


def _cluster_from_resource_id(value: Any) -> Any:
    """A cluster may be written as its full resource id; turn that into the mapping form."""
    if not isinstance(value, str):
        return value
    parsed = parse_cluster_resource_id(value)
    inside = _CLUSTER_ID_INSIDE.search(value) if parsed is None else None
    if inside is not None:
        raise PydanticCustomError(
            "cluster_portal_url",
            "is a portal URL, not a resource id; the id it contains is {resource_id}",
            {"resource_id": inside.group(0), "fix": f"write the cluster as {inside.group(0)}"},
        )
    if parsed is None:
        raise PydanticCustomError(
            "cluster_id",
            "is neither an AKS resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.ContainerService/managedClusters/<name>) nor a {resourceGroup, name} mapping",
        )
    return {"subscription": parsed.subscription, "resourceGroup": parsed.resource_group, "name": parsed.name}


def _items_may_be_resource_ids(schema: dict[str, Any]) -> None:
    schema["items"] = {"anyOf": [schema["items"], {"type": "string", "pattern": CLUSTER_ID_PATTERN}]}


class ClusterRef(_Model):
    """One AKS cluster: `{resourceGroup, name}` (in a stack file, also its full resource id as a string)."""

    resource_group: ResourceGroupName = Field(description="The cluster's resource group.")
    name: ClusterName = Field(description="The cluster's name.")
    subscription: SubscriptionId | None = Field(
        default=None,
        description="The cluster's subscription (optional): must be the subscription of the `aks` entry.",
    )


ClusterEntry = Annotated[ClusterRef, BeforeValidator(_cluster_from_resource_id)]


def _aks_entry_schema(schema: dict[str, Any]) -> None:
    """The rules between an aks entry's keys, for editors and CI linting (the model checks the same)."""
    only_with_all = {"required": ["all"], "properties": {"all": {"const": True}}}
    schema["oneOf"] = [{"required": ["subscription"]}, {"required": ["managementGroup"]}]
    schema["allOf"] = [
        {"if": {"required": ["managementGroup"]}, "then": {"maxProperties": 1}},
        {
            "if": {"required": ["resourceGroups"]},
            "then": {"not": {"anyOf": [{"required": [key]} for key in ("clusters", "all", "exclude", "grantAt")]}},
        },
        {
            "if": {"required": ["grantAt"], "properties": {"grantAt": {"const": "subscription"}}},
            "then": {**only_with_all, "not": {"anyOf": [{"required": ["exclude"]}, {"required": ["clusters"]}]}},
        },
        {"if": {"required": ["exclude"]}, "then": only_with_all},
    ]


class AksSelection(_Model):
    """AKS clusters that get Azure Kubernetes Service RBAC Reader: listed, every cluster of a subscription (one
    grant per cluster, or one at the subscription), every cluster of some resource groups, or of a management
    group. A grant above a cluster covers every cluster below it, present and future (Azure RBAC inherits)."""

    model_config = ConfigDict(**_Model.model_config, json_schema_extra=_aks_entry_schema)

    subscription: SubscriptionId | None = Field(
        default=None, description="The subscription that holds the clusters (every entry but a managementGroup one)."
    )
    management_group: ManagementGroupId | None = Field(
        default=None,
        description="One AKS RBAC Reader at this management group (its id): every cluster of every subscription "
        "below it, present and future. Takes no other key.",
    )
    clusters: list[ClusterEntry] = Field(
        default_factory=list,
        description="The clusters, each `{resourceGroup, name}` (in a stack file, also a full resource id).",
        json_schema_extra=lambda schema: _items_may_be_resource_ids(schema),
    )
    all_clusters: YamlBool = Field(
        default=False,
        alias="all",
        description="Every cluster of the subscription, as found at each preview and up (the script's --aks-all).",
    )
    exclude: list[ClusterEntry] = Field(
        default_factory=list,
        description="With all: true, clusters to leave out (the same forms as clusters).",
        json_schema_extra=lambda schema: _items_may_be_resource_ids(schema),
    )
    grant_at: Literal["cluster", "subscription"] = Field(
        default="cluster",
        description="With all: true: cluster (one grant per cluster found at each preview and up) or subscription "
        "(one grant at the subscription: every cluster, present and future; no exclude).",
    )
    resource_groups: list[ResourceGroupName] = Field(
        default_factory=list,
        description="One AKS RBAC Reader per resource group: every cluster in it, present and future. Instead of "
        "clusters and all.",
    )

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> AksSelection:
        given = self.model_fields_set
        if self.management_group is not None:
            others = [
                _FIELD_ALIASES.get(name, name) for name in _ENTRY_KEYS if name in given and name != "management_group"
            ]
            if others:
                raise PydanticCustomError(
                    "aks_group_alone",
                    "a managementGroup entry takes no other key (its one grant covers every cluster below the "
                    "group); remove {keys}",
                    {"keys": ", ".join(others), "at": others[0]},
                )
            return self
        if self.subscription is None:
            raise PydanticCustomError(
                "aks_subscription",
                "needs subscription (the clusters' subscription), or managementGroup for every cluster below a group",
                {"at": "subscription"},
            )
        if self.resource_groups:
            mixed = [
                _FIELD_ALIASES.get(n, n) for n in ("clusters", "all_clusters", "exclude", "grant_at") if n in given
            ]
            if mixed:
                raise PydanticCustomError(
                    "aks_groups_alone",
                    "resourceGroups replaces clusters and all in its entry (one grant per resource group covers "
                    "every cluster in it, present and future); remove {keys}",
                    {"keys": ", ".join(mixed), "at": mixed[0], "fix": "keep resourceGroups, or list the clusters"},
                )
            return self
        if self.grant_at == "subscription":
            self._grant_at_subscription()
        return self._listed_or_all()

    def _grant_at_subscription(self) -> None:
        if self.exclude:
            raise PydanticCustomError(
                "aks_grant_at_exclude",
                "cannot leave a cluster out with grantAt: subscription: the one grant at the subscription is "
                "inherited by every cluster in it",
                {
                    "at": "exclude",
                    "fix": "grantAt: cluster (the default: one grant per cluster found at each pulumi up) keeps "
                    "exclude; or move the clusters to leave out to another subscription",
                },
            )
        if not self.all_clusters:
            raise PydanticCustomError(
                "aks_grant_at_all",
                "grantAt: subscription goes with all: true (one grant at the subscription covers every cluster in "
                "it, present and future){listed}",
                {
                    "listed": "; the listed clusters would be granted anyway" if self.clusters else "",
                    "at": "grantAt",
                    "fix": "replace clusters with all: true, or delete grantAt to grant the listed clusters only",
                },
            )

    def _listed_or_all(self) -> AksSelection:
        if self.all_clusters and self.clusters:
            raise PydanticCustomError(
                "aks_both",
                "lists clusters and sets all: true; keep one (all: true takes every cluster, exclude leaves some out)",
                {"at": "clusters"},
            )
        if not self.all_clusters and not self.clusters:
            raise PydanticCustomError(
                "aks_none",
                "must not be empty (or set all: true for every cluster of the subscription, or resourceGroups for "
                "every cluster of some resource groups)",
                {"at": "clusters"},
            )
        if self.exclude and not self.all_clusters:
            raise PydanticCustomError(
                "aks_exclude",
                "only goes with all: true (it leaves clusters out of every cluster of the subscription); this entry "
                "lists its clusters, so a cluster to leave out is simply not listed",
                {
                    "at": "exclude",
                    "fix": "delete exclude and keep only the wanted clusters under clusters, or replace clusters with "
                    "all: true to take every cluster but the excluded ones",
                },
            )
        return self

    @property
    def broad(self) -> bool:
        """One grant above the clusters (a subscription, resource groups or a management group)."""
        return self.management_group is not None or bool(self.resource_groups) or self.grant_at == "subscription"

    @property
    def per_cluster_all(self) -> bool:
        """all: true resolved into one grant per cluster found (the clusters are read at each run)."""
        return self.all_clusters and self.grant_at == "cluster"

    def cluster_ids(self) -> list[ClusterId]:
        if self.subscription is None:
            return []
        return [ClusterId.of(self.subscription, c.resource_group, c.name) for c in self.clusters]

    def excluded_ids(self) -> set[ClusterId]:
        if self.subscription is None:
            return set()
        return {ClusterId.of(self.subscription, c.resource_group, c.name) for c in self.exclude}


def _keys_of(names: list[str]) -> list[str]:
    """Field names as the stack file writes them."""
    return [_FIELD_ALIASES.get(name, name) for name in names]


_ENTRY_KEYS = ("subscription", "management_group", "clusters", "all_clusters", "exclude", "grant_at", "resource_groups")
_FIELD_ALIASES = {
    "management_group": "managementGroup",
    "all_clusters": "all",
    "grant_at": "grantAt",
    "resource_groups": "resourceGroups",
}


class ServicePrincipalConfig(_Model):
    """How to get the service principal of Backline's multi-tenant app in this tenant."""

    mode: Literal["ensure", "existing"] = Field(
        default="ensure",
        description="ensure: create it if missing, adopt it unchanged if present. existing: only look it up.",
    )
    object_id: ObjectId | None = Field(
        default=None,
        description="Use this object id and make no Microsoft Graph call at all.",
    )
    delete_on_destroy: YamlBool = Field(
        default=False,
        description="Delete the service principal on `pulumi destroy` (ensure mode only).",
    )

    @model_validator(mode="after")
    def _deletion_needs_ownership(self) -> ServicePrincipalConfig:
        if self.delete_on_destroy and (self.mode == "existing" or self.object_id):
            why = "mode is 'existing'" if self.mode == "existing" else "objectId is given"
            raise PydanticCustomError(
                "sp_delete",
                "deleteOnDestroy: true needs mode 'ensure' without objectId ({why}: this stack does not "
                "manage the service principal)",
                {"why": why, "at": "deleteOnDestroy"},
            )
        return self


class AccessConfig(_Model):
    """The stack config of backline-access: what access Backline gets in one tenant.

    Built in Python (`AccessConfig(tenant_id=..., subscriptions=[...])`), it runs every check a stack file
    gets and raises ConfigError with every problem, under the stack config's key names."""

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[AccessConfig]) -> AccessConfig:
        stack_keys = isinstance(data, Mapping) and not any(key in _ALIASES for key in data)
        try:
            config = handler(data)
        except ValidationError as error:
            details = error.errors() if stack_keys else _with_stack_key_names(error.errors())
            details = _without_misspelled_required(details)
            raw: dict[str, Any] = {}
            if isinstance(data, Mapping):
                raw = {_ALIASES.get(str(key), str(key)): value for key, value in data.items()}
            raise ConfigError([_problem_from(d, raw) for d in details] + _cross_problems(raw)) from None
        # The raw data shows values as the user wrote them; a model built in Python has only its own.
        problems = _cross_problems(data if stack_keys else config.model_dump(by_alias=True))
        if problems:
            raise ConfigError(problems)
        return config

    tenant_id: TenantId = Field(description="The Entra ID tenant (directory) id. Required.")
    subscriptions: list[SubscriptionId] = Field(
        default_factory=list, description="Subscriptions where Backline gets Reader."
    )
    management_groups: list[ManagementGroupId] = Field(
        default_factory=list,
        description="Management groups (ids, not display names) where Backline gets Reader: it covers every "
        "subscription below them, present and future.",
    )
    aks: list[AksSelection] = Field(
        default_factory=list, description="AKS clusters where Backline gets AKS RBAC Reader."
    )
    service_principal: ServicePrincipalConfig = Field(
        default_factory=ServicePrincipalConfig,
        description="How the service principal of Backline's app is found or made.",
    )
    aks_require_azure_rbac: YamlBool = Field(
        default=False,
        description="Fail (instead of warn) when a cluster has Azure RBAC for Kubernetes disabled.",
    )

    def cluster_ids(self) -> list[ClusterId]:
        """The clusters listed by name (those of `all: true` entries are found in Azure)."""
        return [cluster for selection in self.aks for cluster in selection.cluster_ids()]

    def all_cluster_selections(self) -> list[AksSelection]:
        """The `all: true` entries granted per cluster: their clusters are read at each preview and up."""
        return [selection for selection in self.aks if selection.per_cluster_all]

    def broad_aks_selections(self) -> list[AksSelection]:
        """The entries granted above the clusters (a subscription, resource groups, a management group)."""
        return [selection for selection in self.aks if selection.broad]

    def aks_scopes_asked(self) -> list[str]:
        """Where the entries ask for AKS RBAC Reader above clusters, read straight off them (not off the plan): what
        the component declares for the policy pack to hold the grants against."""
        scopes: list[str] = []
        for selection in self.aks:
            if selection.management_group is not None:
                scopes.append(f"/providers/Microsoft.Management/managementGroups/{selection.management_group}")
            elif selection.resource_groups:
                scopes += [
                    f"/subscriptions/{selection.subscription}/resourceGroups/{group}"
                    for group in selection.resource_groups
                ]
            elif selection.grant_at == "subscription":
                scopes.append(f"/subscriptions/{selection.subscription}")
        return scopes

    def groups_to_read(self) -> list[str]:
        """The management groups whose subscriptions the program reads: Reader's, and AKS RBAC Reader's."""
        aks_groups = [s.management_group for s in self.aks if s.management_group is not None]
        return list(dict.fromkeys([*self.management_groups, *aks_groups]))

    def aks_subscriptions(self) -> list[str]:
        return [selection.subscription for selection in self.aks if selection.subscription is not None]


CONFIG_KEYS: tuple[str, ...] = tuple(field.alias or name for name, field in AccessConfig.model_fields.items())
_ALIASES: dict[str, str] = {
    name: field.alias
    for model in (AccessConfig, AksSelection, ClusterRef, ServicePrincipalConfig)
    for name, field in model.model_fields.items()
    if field.alias and field.alias != name
}


def parse_config(raw: Mapping[str, Any]) -> AccessConfig:
    """Validate raw stack config (keys without the namespace) into an AccessConfig.
    Raises ConfigError carrying every problem found."""
    problems = _undecodable(raw)
    decoded = {
        key: str(value) if isinstance(value, UndecodedJson) else value
        for key, value in raw.items()
        if not (isinstance(value, UndecodedJson) and key in _STRUCTURED_KEYS)
    }
    # Stack files use the camelCase keys only: `resource_group` there is a typo, not an alias.
    return validated_with(lambda: AccessConfig.model_validate(decoded, by_name=False), problems)


def validated_with(validate: Callable[[], AccessConfig], more: list[Problem]) -> AccessConfig:
    """`validate()`, reporting its problems and `more` together. When there are more (a value that did not
    decode, keys under another namespace), they are likely what was meant to grant, so "nothing to grant"
    would only repeat them."""
    try:
        config = validate()
    except ConfigError as error:
        found = [p for p in error.problems if not (more and p.message == NOTHING_TO_GRANT)]
        raise ConfigError([*found, *more]) from None
    if more:
        raise ConfigError(more)
    return config


# Keys whose values are lists or mappings: a scalar key's '{...}' is a string (a GUID in braces, say).
_STRUCTURED_KEYS = ("subscriptions", "managementGroups", "aks", "servicePrincipal")


class UndecodedJson(str):
    """A config value that looked like JSON (it starts with '[' or '{') but does not parse."""

    error: str

    def __new__(cls, text: str, error: str) -> UndecodedJson:
        value = super().__new__(cls, text)
        value.error = error
        return value


def _undecodable(raw: Mapping[str, Any]) -> list[Problem]:
    return [
        Problem(
            key,
            f"is not valid JSON ({value.error}); write it as a YAML list or mapping in Pulumi.<stack>.yaml, or "
            f"set items one by one: pulumi config set --path '{NAMESPACE}:{key}[0]' <value>",
            value=str(value),
        )
        for key, value in raw.items()
        if isinstance(value, UndecodedJson) and key in _STRUCTURED_KEYS
    ]


def _with_stack_key_names(details: list[Any]) -> list[Any]:
    """Errors of a model built in Python name fields as Python does (`tenant_id`): use the config keys."""
    return [
        {**d, "loc": tuple(_ALIASES.get(part, part) if isinstance(part, str) else part for part in d["loc"])}
        for d in details
    ]


def config_warnings(config: AccessConfig, below_groups: Collection[str] | None = None) -> list[str]:
    """`below_groups`: the subscriptions below the config's management groups (their Reader covers them), or
    None when not known (an offline plan)."""
    return (
        _placeholder_warnings(config)
        + _tenant_as_subscription_warnings(config)
        + _aks_without_reader_warnings(config, below_groups)
    )


def _is_placeholder(guid: str) -> bool:
    """`00000000-0000-...`, `11111111-1111-...`: the example stack's ids, never a real tenant's."""
    return len(set(guid.replace("-", ""))) == 1


def _tenant_as_subscription_warnings(config: AccessConfig) -> list[str]:
    listed = [index for index, subscription in enumerate(config.subscriptions) if subscription == config.tenant_id]
    return [
        f"subscriptions[{index}]: {config.tenant_id} is the tenant id, not a subscription's (a copy slip?); "
        f'the subscriptions: az account list --query "[].id" -o tsv'
        for index in listed
    ]


def _placeholder_warnings(config: AccessConfig) -> list[str]:
    ids = [config.tenant_id, *config.subscriptions, *config.aks_subscriptions()]
    placeholders = list(dict.fromkeys(guid for guid in ids if _is_placeholder(guid)))
    if not placeholders:
        return []
    return [
        f"{', '.join(placeholders)}: placeholder ids like the example stack's, not a real tenant's or "
        "subscription's; this plan is for the example. Copy Pulumi.dev.yaml to Pulumi.<name>.yaml, put in your "
        f"ids ({TENANT_FIX}; {SUBSCRIPTIONS_FIX}) and pass --stack <name>."
    ]


def _aks_without_reader_warnings(config: AccessConfig, below_groups: Collection[str] | None) -> list[str]:
    readers = set(config.subscriptions) | set(below_groups or ())
    gets_none = "gets no Reader (it is not in 'subscriptions')"
    if config.management_groups and below_groups is None:
        # A group may cover it: known only once Azure is read (pulumi preview).
        gets_none = (
            "is not in 'subscriptions': unless one of managementGroups covers it (pulumi preview checks), it gets "
            "no Reader"
        )
    elif config.management_groups:
        gets_none = "gets no Reader (it is neither in 'subscriptions' nor below managementGroups)"
    without = [
        f"aks[{index}].subscription: {selection.subscription} {gets_none}: AKS RBAC Reader alone cannot read the "
        "cluster's control plane (configuration, networking, node pools). Add it to backline-access:subscriptions."
        for index, selection in enumerate(config.aks)
        if selection.subscription is not None and selection.subscription not in readers
    ]
    groups = {group.lower() for group in config.management_groups}
    return without + [
        f"aks[{index}].managementGroup: {selection.management_group} is not in managementGroups: the clusters below "
        "it get AKS RBAC Reader, but their subscriptions get no Reader from this stack unless listed, and AKS RBAC "
        "Reader alone cannot read a cluster's control plane. Add the group to backline-access:managementGroups."
        for index, selection in enumerate(config.aks)
        if selection.management_group is not None and selection.management_group.lower() not in groups
    ]


# --- translating pydantic's errors into problems ---------------------------------------------

_PLAIN_MESSAGES = {
    "missing": "is required",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "too_short": "must not be empty",
}


def _without_misspelled_required(details: list[Any]) -> list[Any]:
    """`nmae: x` yields both "name is required" and "nmae is unknown, did you mean name?": keep the second.
    Likewise `all: true` without clusters: the unsupported `all` is the one problem worth saying."""
    suggested = {
        (tuple(d["loc"][:-1]), _closest_key(list(d["loc"]))) for d in details if d["type"] == "extra_forbidden"
    }
    return [d for d in details if not (d["type"] == "missing" and (tuple(d["loc"][:-1]), d["loc"][-1]) in suggested)]


def _closest_key(loc: list[str | int]) -> str | None:
    close = difflib.get_close_matches(str(loc[-1]), _known_keys_at(loc[:-1]), n=1)
    return close[0] if close else None


def _problem_from(detail: Any, raw: Mapping[str, Any]) -> Problem:
    loc: list[str | int] = list(detail["loc"])
    context = detail.get("ctx") or {}
    if "at" in context:
        loc.append(context["at"])
    kind = detail["type"]
    path = format_path(loc)
    if kind == "extra_forbidden":
        return Problem(path, _unknown_key_message(loc), value=detail["input"])
    message = _PLAIN_MESSAGES.get(kind) or _soften(detail["msg"])
    if kind == "string_type" and isinstance(detail["input"], int | float) and not isinstance(detail["input"], bool):
        message = (
            "is a number, not an id: YAML reads an unquoted 1e999 or 12345 as a number; an id here is text (a GUID "
            "like 11111111-2222-3333-4444-555555555555), so check the value, and quote it if it is meant as written"
        )
    if kind == "list_type" and detail["input"] in ("", None):
        message = "is empty: give at least one value as a YAML list, or delete the key"
    elif kind == "list_type" and isinstance(detail["input"], str):
        message = _list_form_hint(loc, detail["input"])
    fix = context.get("fix") or _fix_for(loc, raw)
    # A mapping says nothing new, and neither does an empty value.
    shows_value = kind != "missing" and not isinstance(detail["input"], dict) and detail["input"] not in ("", None)
    return Problem(path, message, fix, detail["input"]) if shows_value else Problem(path, message, fix)


def _list_form_hint(loc: list[str | int], text: str) -> str:
    items = [item.strip() for item in text.split(",") if item.strip()] or ["<value>"]
    key = format_path(loc)
    lines = [f"{NAMESPACE}:{key}:" if len(loc) == 1 else f"{loc[-1]}:"] + [f"  - {item}" for item in items]
    form = "\n".join("        " + line for line in lines)
    return f"must be a YAML list, not a comma-separated string; write it as:\n{form}"


def _soften(message: str) -> str:
    return message.replace("Input should be", "must be").replace("Value error, ", "")


def _unknown_key_message(loc: list[str | int]) -> str:
    close = _closest_key(loc)
    hint = f"did you mean '{close}'?" if close else f"known keys here: {', '.join(_known_keys_at(loc[:-1]))}"
    return f"is not a known key (a typo here would silently grant nothing); {hint}"


def _known_keys_at(parent: list[str | int]) -> list[str]:
    names = [part for part in parent if isinstance(part, str)]
    model: type[_Model] = AccessConfig
    if names[:1] == ["aks"]:
        model = ClusterRef if "clusters" in names else AksSelection
    elif names[:1] == ["servicePrincipal"]:
        model = ServicePrincipalConfig
    return [field.alias or name for name, field in model.model_fields.items()]


def _fix_for(loc: list[str | int], raw: Mapping[str, Any]) -> str | None:
    head = loc[0] if loc else None
    if head == "tenantId":
        return TENANT_FIX
    if head == "subscriptions" or (head == "aks" and loc[-1] == "subscription"):
        return SUBSCRIPTIONS_FIX
    if head == "managementGroups":
        return MANAGEMENT_GROUPS_FIX
    if head == "aks":
        return clusters_fix(_aks_subscription(raw, loc))
    if head == "servicePrincipal" and "objectId" in loc:
        return OBJECT_ID_FIX
    return None


def _aks_subscription(raw: Mapping[str, Any], loc: list[str | int]) -> str | None:
    entries = raw.get("aks")
    if len(loc) > 1 and isinstance(loc[1], int) and isinstance(entries, list) and loc[1] < len(entries):
        entry = entries[loc[1]]
        if isinstance(entry, dict) and isinstance(entry.get("subscription"), str):
            return str(entry["subscription"])
    return None


# --- problems between fields, found on the raw data --------------------------------------------


def _cross_problems(raw: Mapping[str, Any]) -> list[Problem]:
    problems = _duplicates(_strings(raw, "subscriptions"), SUBSCRIPTIONS_FIX)
    problems += _duplicates(_strings(raw, "managementGroups"), MANAGEMENT_GROUPS_FIX)
    aks = raw.get("aks")
    entries: list[Any] = aks if isinstance(aks, list) else []
    aks_subscriptions = [
        (f"aks[{i}].subscription", str(e["subscription"]))
        for i, e in enumerate(entries)
        if isinstance(e, dict) and isinstance(e.get("subscription"), str)
    ]
    problems += _duplicates(aks_subscriptions, SUBSCRIPTIONS_FIX, "merge their clusters into one entry")
    problems += _cluster_problems(entries)
    if all(_empty(raw.get(key)) for key in ("subscriptions", "managementGroups", "aks")):
        problems.append(
            Problem(
                "subscriptions",
                NOTHING_TO_GRANT,
                SUBSCRIPTIONS_FIX,
            )
        )
    return problems


def _empty(value: Any) -> bool:
    return value is None or value == []


def _strings(raw: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    value = raw.get(key)
    if not isinstance(value, list):
        return []
    return [(f"{key}[{i}]", item) for i, item in enumerate(value) if isinstance(item, str)]


def _duplicates(items: list[tuple[str, str]], fix: str, advice: str = "remove one of them") -> list[Problem]:
    first_seen: dict[str, str] = {}
    problems = []
    for path, value in items:
        key = value.strip().lower()
        if key in first_seen:
            problems.append(Problem(path, f"is listed twice (also at {first_seen[key]}); {advice}", fix, value))
        else:
            first_seen[key] = path
    return problems


def _cluster_problems(entries: list[Any]) -> list[Problem]:
    problems: list[Problem] = []
    first_seen: dict[tuple[str, str, str], str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("clusters"), list):
            continue
        subscription = str(entry.get("subscription", "")).strip().lower()
        for j, cluster in enumerate(entry["clusters"]):
            path = f"aks[{i}].clusters[{j}]"
            key = _raw_cluster_key(cluster, subscription)
            if key is None:
                continue
            if key[0] != subscription:
                problems.append(
                    Problem(
                        path,
                        f"is in subscription {key[0]}, not in this entry's subscription {subscription}; "
                        "move it to an aks entry for its own subscription",
                        clusters_fix(subscription or None),
                        cluster,
                    )
                )
            elif key in first_seen:
                problems.append(
                    Problem(
                        path,
                        f"is listed twice (also at {first_seen[key]}); remove one of them",
                        clusters_fix(subscription or None),
                        cluster,
                    )
                )
            else:
                first_seen[key] = path
    return problems


def _raw_cluster_key(cluster: Any, subscription: str) -> tuple[str, str, str] | None:
    if isinstance(cluster, str):
        parsed = parse_cluster_resource_id(cluster)
        if parsed is None:
            return None
        return (parsed.subscription.lower(), parsed.resource_group.lower(), parsed.name.lower())
    if isinstance(cluster, dict):
        group, name, own = cluster.get("resourceGroup"), cluster.get("name"), cluster.get("subscription")
        if isinstance(group, str) and isinstance(name, str):
            return (own.lower() if isinstance(own, str) else subscription, group.lower(), name.lower())
    return None
