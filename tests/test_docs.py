"""The documents a company reads before installing: the README as a front page, the docs site's pages, the security
review's claims against Azure's own role definitions, and the release files (license, changelog, one version)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import typer
from conftest import REPO
from typer.testing import CliRunner

from backline_access import __version__
from backline_access.cli import app

DOCS = REPO / "docs"
AKS_PREFIX = "Microsoft.ContainerService/managedClusters/"


def prose(markdown: str) -> str:
    """The text without code blocks, HTML comments and link targets."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)", "]", text)


def test_the_readme_is_a_front_page_of_at_most_1500_words_of_prose() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(prose(readme).split()) <= 1500
    for heading in ("## Quick start", "## From zero", "## Documentation"):
        assert heading in readme
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    pages = {path.name for path in DOCS.glob("*.md")}
    assert pages - {"index.md"} <= linked <= pages  # every page is one click from the front page


def test_every_page_is_in_the_site_and_every_command_is_documented() -> None:
    site = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert {path.name for path in DOCS.glob("*.md")} == set(re.findall(r"([\w-]+\.md)", site))
    shown = {m for path in DOCS.glob("*.md") for m in re.findall(r"backline-access (\w+)", path.read_text())}
    commands = set(getattr(typer.main.get_command(app), "commands", {}))
    assert commands == {"plan", "verify", "init", "schema", "revoke"}
    assert commands <= shown


def test_the_security_review_lists_exactly_the_data_actions_of_aks_rbac_reader(reference: Path) -> None:
    path = reference / "azure" / "builtin-roles" / "AzureKubernetesServiceRBACReader.json"
    if not path.exists():
        pytest.skip(f"{path} is absent (the reference data lives beside the project, not in it)")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    role = loaded[0] if isinstance(loaded, list) else loaded
    [permissions] = role["permissions"]
    review = (DOCS / "security-review.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([\w./-]+/read)` \|$", review, flags=re.M)
    assert sorted(AKS_PREFIX + action for action in listed) == sorted(permissions["dataActions"])
    assert permissions["notDataActions"] == [] and "it has no `notDataActions`" in review
    assert role["description"] in " ".join(review.split())  # quoted word for word
    for action in permissions["actions"]:
        assert f"`{action}`" in review


def test_the_version_is_written_once_and_everything_says_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert re.search(r'^__version__ = "(\d+\.\d+\.\d+)"$', (REPO / "backline_access" / "__init__.py").read_text(), re.M)
    assert CliRunner().invoke(app, ["--version"]).stdout.strip() == f"backline-access {__version__}"
    assert json.loads((REPO / "provider" / "schema.json").read_text())["version"] == __version__
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    assert "## [Unreleased]" in changelog
    for example in ("yaml", "typescript"):
        assert f"/provider@v{__version__}" in (REPO / "examples" / example / "Pulumi.yaml").read_text()
    minor = ".".join(__version__.split(".")[:2])
    assert f"| {minor}.x | yes |" in (REPO / "SECURITY.md").read_text(encoding="utf-8")


def test_the_license_is_the_apache_license_the_package_declares() -> None:
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
