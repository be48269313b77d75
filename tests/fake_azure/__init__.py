"""A fake Azure on loopback for the project's tests (and for trying the program or CLI by hand)."""

from .estate import BACKLINE_APP_ID, Assignment, Cluster, Estate, RoleDefinition
from .server import GITHUB_OIDC_PATH, GITHUB_REQUEST_TOKEN, FakeAzureServer, Request

__all__ = [
    "BACKLINE_APP_ID",
    "GITHUB_OIDC_PATH",
    "GITHUB_REQUEST_TOKEN",
    "Assignment",
    "Cluster",
    "Estate",
    "FakeAzureServer",
    "Request",
    "RoleDefinition",
]
