"""`revoke`'s two forms: the bash script that deletes by id, and the same list as JSON."""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..azure import AzureFailure
from ..config import BACKLINE_APP_ID
from .finding import GROUP_LIST, SUBSCRIPTION_LIST, FoundAssignment, Revocation


def render_script(revocation: Revocation, az_prefix: str, found_by: str) -> str:
    """A script for bash (`set -euo pipefail`): one `az role assignment delete --ids` per assignment found, the
    principal's deletion commented out. `found_by` says what looked, as whom and when (the script outlives the
    run)."""
    principal = f"object id {revocation.principal_id}" if revocation.principal_id else "none in this tenant"
    lines = [
        "#!/usr/bin/env bash",
        f"# Removes Backline's access to tenant {revocation.tenant_id}: every role assignment of the service",
        f"# principal of Backline's app ({BACKLINE_APP_ID}, {principal}) that could be seen.",
        f"# Found by {found_by}.",
        "# It deletes each by its id and nothing else. Read it, then run it signed in (az login) as someone who may",
        "# delete role assignments at these scopes (Owner or User Access Administrator there): bash <this file>",
        "set -euo pipefail",
        "",
    ]
    if az_prefix:
        lines += ["# Not the public cloud: az talks to this one.", az_prefix.removesuffix(" && "), ""]
    if revocation.principal_id is None:
        lines += [
            f"# Backline's app has no service principal in tenant {revocation.tenant_id}: it holds nothing here.",
            "echo 'Nothing to remove.'",
        ]
        return "\n".join(lines)
    lines += _deletions(revocation.assignments)
    lines += _not_read(revocation.not_read)
    lines += [
        "",
        "# The service principal itself. Deleting it ends the admin consent, and with it any grant held where the",
        "# listings above could not look; Backline's app returns only through admin consent again. To delete it too:",
        f"# az ad sp delete --id {revocation.principal_id}",
    ]
    return "\n".join(lines)


def _deletions(found: list[FoundAssignment]) -> list[str]:
    if not found:
        return ["# No role assignment of Backline's service principal was found.", "echo 'Nothing to remove.'"]
    count = len(found)
    lines = [f"# {count} role assignment{'s' if count != 1 else ''}."]
    for item in found:
        asked = "in the stack config" if item.in_stack_config else "not in the stack config"
        lines.append(f"# {item.role} at {item.assignment.scope} ({asked})")
        lines.append(f"az role assignment delete --ids {shlex.quote(item.assignment.id)}")
    lines.append(f"echo 'Deleted {count} role assignment{'s' if count != 1 else ''} of Backline.'")
    return lines


def _not_read(failures: dict[str, AzureFailure]) -> list[str]:
    if not failures:
        return []
    lines = ["", "# NOT COMPLETE: these could not be read, so an assignment of Backline's there is not above."]
    for scope, failure in sorted(failures.items()):
        where = scope if scope in (SUBSCRIPTION_LIST, GROUP_LIST) else f"the role assignments at {scope}"
        lines.append(f"#   {where}: {failure.describe()}")
    lines.append("# fix: run revoke as someone with Reader there (or Global Administrator's elevated access).")
    return lines


def render_json(revocation: Revocation) -> str:
    document: dict[str, Any] = {
        "tenantId": revocation.tenant_id,
        "applicationId": BACKLINE_APP_ID,
        "servicePrincipalObjectId": revocation.principal_id,
        "complete": revocation.complete,
        "assignments": [
            {
                "id": item.assignment.id,
                "scope": item.assignment.scope,
                "role": item.role,
                "roleDefinitionId": item.assignment.role_definition_id,
                "inStackConfig": item.in_stack_config,
            }
            for item in revocation.assignments
        ],
        "notRead": [
            {"scope": scope, "problem": failure.describe()} for scope, failure in sorted(revocation.not_read.items())
        ],
    }
    return json.dumps(document, indent=2)
