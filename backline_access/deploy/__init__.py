"""The Pulumi program: the BacklineAccess component, its providers pinned to the tenant, the preflight and adoption."""

from .component import BacklineAccess
from .program import run
from .providers import provider_settings, unknown_cloud_problems

__all__ = [
    "BacklineAccess",
    "provider_settings",
    "run",
    "unknown_cloud_problems",
]
