"""The Pulumi program: stack config -> BacklineAccess -> stack outputs. `__main__.py` calls `run()`."""

from __future__ import annotations

import pulumi

from .component import BacklineAccess
from .config_source import raw_config_from_pulumi

COMPONENT_NAME = "backline"


def run() -> BacklineAccess:
    # The component validates the raw mapping itself: parsing here too would do it twice.
    access = BacklineAccess(COMPONENT_NAME, raw_config_from_pulumi())
    for key, value in access.outputs().items():
        pulumi.export(key, value)
    return access
