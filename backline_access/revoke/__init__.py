"""Break-glass removal: every role assignment of Backline's principal that the caller can see, as a script to run.

`backline-access revoke` reads Azure as `verify` does and writes a bash script that deletes each assignment by its id
(the service principal's own deletion a commented line). It deletes nothing itself: outside `pulumi up`, the project
only reads. For offboarding, a lost stack, or an incident; it needs neither Pulumi nor the stack's state.
"""

from __future__ import annotations

from .finding import FoundAssignment, Revocation, RevocationReads, find_revocation
from .script import render_json, render_script

__all__ = ["FoundAssignment", "Revocation", "RevocationReads", "find_revocation", "render_json", "render_script"]
