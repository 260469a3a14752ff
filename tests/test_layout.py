"""The code under test is this checkout, and the import path is the folder path."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import arctl

from conftest import REPO

ROOTS = {"arctl": "controller", "arctl.sandbox": "sandbox", "arctl.harness": "harness", "arctl.artifact": "artifact"}
MAX_LINES = 300


def test_the_imported_arctl_is_this_checkout():
    for package, root in ROOTS.items():
        module = importlib.import_module(package)
        expected = REPO / root / Path(*package.split(".")) / "__init__.py"
        assert Path(module.__file__).resolve() == expected, (
            f"{package} is imported from {module.__file__}, not from the checkout under test ({expected}); "
            "install it editable: .venv/bin/pip install -e '.[test]'")


def _modules():
    for info in pkgutil.walk_packages(arctl.__path__, "arctl."):
        if info.name.startswith(("arctl.harness.", "arctl.artifact.")) or info.name.endswith("__main__"):
            continue  # files for the container and the workspace, and `python -m arctl` (importing it runs it)
        yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_lives_where_its_name_says(name):
    module = importlib.import_module(name)
    relative = Path(*name.split("."))
    path = Path(module.__file__).resolve()
    assert path.relative_to(REPO).parts[0] in ROOTS.values()
    where = path.parent if path.name == "__init__.py" else path.with_suffix("")
    assert where.as_posix().endswith(relative.as_posix()), f"{name} is in {path}"


def test_no_host_module_is_longer_than_the_budget():
    long = {str(p.relative_to(REPO)): n for root in ("controller", "sandbox") for p in (REPO / root).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"


def test_the_harness_imports_nothing_of_the_host():
    tree = ast.parse((REPO / "harness" / "arctl" / "harness" / "run_job.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] == "arctl"}


def test_bundled_files_are_found_through_the_package():
    from arctl.artifact import ROOT
    from arctl.sandbox import image, runner

    assert (ROOT / "train.py").is_file() and (ROOT / "catalog" / "classification").is_dir()
    assert image.DOCKERFILE.is_file() and image.REQUIREMENTS.is_file()
    assert (runner.HARNESS_DIR / "run_job.py").is_file()
    assert (REPO / "Dockerfile.sandbox").resolve() == image.DOCKERFILE.resolve()
