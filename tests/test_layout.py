"""The package's layout: its public names, its entry points, and folders that meet only through their `__all__`.

Which folder may import which is import-linter's contract in pyproject.toml (`lint-imports`, run by .ci/run).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

import backline_access

PACKAGE = REPO / "backline_access"
FOLDERS = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
PUBLIC = [
    "AKS_RBAC_READER",
    "BACKLINE_APP_ID",
    "READER",
    "AccessConfig",
    "AksSelection",
    "BacklineAccess",
    "ClusterRef",
    "ConfigError",
    "Problem",
    "ServicePrincipalConfig",
    "parse_config",
]


def test_the_folders_are_the_jobs() -> None:
    assert FOLDERS == ["azure", "config", "deploy", "init", "plugin", "review", "revoke", "verify"]


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_imports_from_the_package(name: str) -> None:
    assert name in backline_access.__all__
    assert getattr(backline_access, name) is not None


def test_the_public_names_are_the_documented_ones() -> None:
    assert sorted(backline_access.__all__) == sorted(PUBLIC)


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_says_what_it_is_for_and_exports_what_it_names(folder: str) -> None:
    module = importlib.import_module(f"backline_access.{folder}")
    assert module.__doc__ and module.__doc__.strip().splitlines()[0].endswith(".")
    exported = module.__all__
    for name in exported:
        assert hasattr(module, name), f"backline_access.{folder}.__all__ names {name}, which it does not have"


def _cross_folder_imports() -> list[tuple[Path, int, str, list[str]]]:
    """Every relative import in the package that reaches out of its own folder: (file, line, target, names)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = path.relative_to(PACKAGE).parts
        own_folder = here[0] if len(here) > 1 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            package = list(here[:-1])[: len(here) - node.level]
            target = [*package, *(node.module.split(".") if node.module else [])]
            if target and target[0] in FOLDERS and target[0] != own_folder:
                found.append((path, node.lineno, ".".join(target), [alias.name for alias in node.names]))
    return found


def test_folders_meet_only_through_each_others_all() -> None:
    imports = _cross_folder_imports()
    assert imports, "the scan found no import between folders: it is not reading the package"
    wrong = []
    for path, line, target, names in imports:
        folder = target.split(".")[0]
        exported = importlib.import_module(f"backline_access.{folder}").__all__
        where = f"{path.relative_to(REPO)}:{line}"
        if target != folder:
            wrong.append(f"{where} imports {target}; import from backline_access.{folder} instead")
        wrong += [f"{where} imports {name}, not in {folder}.__all__" for name in names if name not in exported]
    assert not wrong, "\n".join(wrong)


def test_python_dash_m_and_the_project_entry_point_run() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "backline_access", "--help"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0, version.stderr
    assert "plan" in version.stdout and "verify" in version.stdout
    console = Path(sys.executable).with_name("backline-access")
    assert console.exists(), "the backline-access console script is installed with the package"
    assert "__main__.py" in {path.name for path in REPO.iterdir()}
    assert "from backline_access.deploy import run" in (REPO / "__main__.py").read_text(encoding="utf-8")
