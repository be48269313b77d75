"""BacklineAccess for every Pulumi language: the component served as a provider plugin of the package `backline`.

`provider/` at the repository's root is the plugin directory that `pulumi package add` takes; its `__main__.py`
calls `serve()`. The type token stays `backline:index:BacklineAccess`, the Python component's, so a stack that moves
from the Python component to a generated SDK keeps its URNs. Pulumi and the component load on first use.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def package_schema() -> dict[str, Any]:
    """The Pulumi package schema the plugin serves through GetSchema (committed as provider/schema.json)."""
    from .. import __version__
    from .provider import BacklineAccessProvider

    schema: dict[str, Any] = json.loads(BacklineAccessProvider(__version__).schema or "{}")
    return schema


def serve(args: Sequence[str] | None = None) -> None:
    """Serve the provider as the python language host starts a plugin: `python <plugin dir> <engine address>`; the
    port goes to stdout (`pulumi.provider.main`)."""
    from pulumi.provider import main

    from .. import __version__
    from .provider import BacklineAccessProvider

    main(BacklineAccessProvider(__version__), list(sys.argv[1:] if args is None else args))


__all__ = ["package_schema", "serve"]
