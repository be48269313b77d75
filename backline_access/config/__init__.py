"""The typed stack config and what it names: ids, roles, clouds, and the problems people are told.

The bottom layer: nothing here imports from the rest of the package.
"""

from .clouds import Cloud, CloudChoice, choose_cloud, named_cloud
from .identifiers import (
    ClusterId,
    guid_problem,
    management_group_of,
    management_group_problem,
    management_group_scope,
    parse_cluster_resource_id,
    subscription_scope,
)
from .model import (
    NAMESPACE,
    AccessConfig,
    AksSelection,
    ClusterRef,
    ServicePrincipalConfig,
    config_warnings,
    parse_config,
)
from .problems import (
    MANAGEMENT_GROUPS_FIX,
    OBJECT_ID_FIX,
    SUBSCRIPTIONS_FIX,
    TENANT_FIX,
    ConfigError,
    Problem,
    clusters_fix,
    login_fix,
    rbac_fix,
)
from .roles import AKS_RBAC_READER, BACKLINE_APP_ID, GRANTED_ROLE_NAMES, READER, Role, assignment_name
from .schema import stack_file_schema
from .source import (
    config_from_pulumi,
    handed_over_config,
    handed_over_from_document,
    load_config,
    provider_config_from_pulumi,
    stack_file_text,
)
from .stacks import StackName, default_stack, parse_stack_name, project_folder, project_of, stack_file

__all__ = [
    "AKS_RBAC_READER",
    "BACKLINE_APP_ID",
    "GRANTED_ROLE_NAMES",
    "MANAGEMENT_GROUPS_FIX",
    "NAMESPACE",
    "OBJECT_ID_FIX",
    "READER",
    "SUBSCRIPTIONS_FIX",
    "TENANT_FIX",
    "AccessConfig",
    "AksSelection",
    "Cloud",
    "CloudChoice",
    "ClusterId",
    "ClusterRef",
    "ConfigError",
    "Problem",
    "Role",
    "ServicePrincipalConfig",
    "StackName",
    "assignment_name",
    "choose_cloud",
    "clusters_fix",
    "config_from_pulumi",
    "config_warnings",
    "default_stack",
    "guid_problem",
    "handed_over_config",
    "handed_over_from_document",
    "load_config",
    "login_fix",
    "management_group_of",
    "management_group_problem",
    "management_group_scope",
    "named_cloud",
    "parse_cluster_resource_id",
    "parse_config",
    "parse_stack_name",
    "project_folder",
    "project_of",
    "provider_config_from_pulumi",
    "rbac_fix",
    "stack_file",
    "stack_file_schema",
    "stack_file_text",
    "subscription_scope",
]
