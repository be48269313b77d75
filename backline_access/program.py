"""The Pulumi program: stack config -> BacklineAccess -> stack outputs. `__main__.py` calls `run()`."""

from __future__ import annotations

import pulumi

from .azure import ClusterReads
from .component import BacklineAccess
from .config_source import config_from_pulumi

COMPONENT_NAME = "backline"


def run(reader: ClusterReads | None = None) -> BacklineAccess:
    """`reader` answers the read side in-process (the offline plan); by default it is Azure over HTTP."""
    access = BacklineAccess(COMPONENT_NAME, config_from_pulumi(), reader=reader)
    for key, value in access.outputs().items():
        pulumi.export(key, value)
    return access
