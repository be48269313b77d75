"""The Pulumi program: stack config -> BacklineAccess -> stack outputs. `__main__.py` calls `run()`."""

from __future__ import annotations

import pulumi

from .component import BacklineAccess
from .config_source import config_from_pulumi

COMPONENT_NAME = "backline"


def run() -> BacklineAccess:
    access = BacklineAccess(COMPONENT_NAME, config_from_pulumi())
    for key, value in access.outputs().items():
        pulumi.export(key, value)
    return access
