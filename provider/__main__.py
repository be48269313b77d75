"""The plugin's program: the python language host runs `python <this directory> <engine address>`
(pulumi/pulumi `sdk/python/cmd/pulumi-language-python/main.go` RunPlugin, 1608-1623 at v3.259.0).

The backline_access package is the one beside this directory, in the same checkout or tag that `pulumi package add`
cloned (`sdk/go/common/workspace/plugins.go` gitSource.Download, 397-447: the whole repository)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backline_access.plugin import serve

serve()
