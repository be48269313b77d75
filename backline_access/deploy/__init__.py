"""The Pulumi program: the BacklineAccess component, its providers pinned to the tenant, the preflight and adoption."""

from .component import BacklineAccess
from .program import run
from .providers import provider_settings, unknown_cloud_problems
from .stack_state import READ_STACK_OUTPUTS, READ_STACK_RESOURCES
from .urn import Urn

__all__ = [
    "READ_STACK_OUTPUTS",
    "READ_STACK_RESOURCES",
    "BacklineAccess",
    "Urn",
    "provider_settings",
    "run",
    "unknown_cloud_problems",
]
