"""The application and the only two roles this project ever assigns, and how assignments are named."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

BACKLINE_APP_ID = "3fc75f55-e53f-4950-9127-665106cded58"

# A fixed namespace so that assignment names are the same on every machine and every run.
_ASSIGNMENT_NAMESPACE = uuid.UUID("5b0f3c1e-8d4a-5e57-9a43-b4c1d2a8e6f0")


@dataclass(frozen=True)
class Role:
    name: str
    guid: str
    key: str  # short, stable word for logical resource names

    def definition_id(self, subscription_id: str | None) -> str:
        """The role definition id as ARM takes it for a scope in `subscription_id`, or (None) for a scope above
        subscriptions, a management group: there, ARM accepts only the tenant-level form."""
        if subscription_id is None:
            return f"/providers/Microsoft.Authorization/roleDefinitions/{self.guid}"
        return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{self.guid}"


READER = Role(name="Reader", guid="acdd72a7-3385-48ef-bd42-f606fba81ae7", key="reader")
AKS_RBAC_READER = Role(
    name="Azure Kubernetes Service RBAC Reader",
    guid="7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    key="aks-rbac-reader",
)


# The two roles by guid, with their names: what this project grants, and all it ever does.
GRANTED_ROLE_NAMES = {role.guid: role.name for role in (READER, AKS_RBAC_READER)}


def assignment_name(scope: str, role: Role, app_id: str = BACKLINE_APP_ID) -> str:
    """Deterministic role assignment name: the same (scope, role, app) always gives the same GUID,
    so a re-run after lost state converges on the assignment it made before."""
    return str(uuid.uuid5(_ASSIGNMENT_NAMESPACE, f"{scope.lower()}|{role.guid}|{app_id.lower()}"))
