"""Shared fixtures. Sandbox tests run against the real Docker engine and the real image:
when either is missing they fail with the reason, they are never skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arctl import tasks
from arctl.artifact import ROOT as ARTIFACT
from arctl.errors import ArctlError

CANDIDATES = Path(__file__).resolve().parent / "candidates"
REPO = Path(__file__).resolve().parents[1]
__all__ = ["ARTIFACT", "CANDIDATES", "HEART_DATA", "REPO", "candidate", "own_leftovers"]


def _heart_data() -> Path:
    """The UCI heart data: $ARCTL_HEART_DATA, else arctl's download cache (filled by .ci/setup), checked by sha256."""
    try:
        return tasks.locate_data(tasks.HEART)
    except ArctlError as e:
        raise pytest.UsageError(f"the heart data is needed by the tests: {str(e).rstrip('.')}. Run `bash .ci/setup`, or set "
                                "ARCTL_HEART_DATA to a copy of processed.cleveland.data") from None


HEART_DATA = _heart_data()


@pytest.fixture(scope="session", autouse=True)
def arctl_home(tmp_path_factory):
    """Every test session gets its own host-side store, so nothing leaks between runs."""
    home = tmp_path_factory.mktemp("arctl-home")
    os.environ["ARCTL_HOME"] = str(home)
    # A fixed row secret (arctl draws one per prepare): the same folds in every session, so tests that
    # expect the catalog to keep and discard see the same scores. Secret 2 keeps entry 01, discards 02.
    os.environ["ARCTL_ROW_SECRET"] = "2"
    return home


@pytest.fixture(scope="session")
def heart_task(arctl_home):
    from arctl import prepare

    return prepare.prepare(tasks.HEART, HEART_DATA)


@pytest.fixture(scope="session")
def engine():
    from arctl.sandbox import engine as docker_engine

    return docker_engine.client()  # raises with instructions when no engine runs


@pytest.fixture(scope="session")
def image(engine):
    from arctl.sandbox import image

    tag = image.image_tag()
    assert image.find(engine, tag) is not None, f"sandbox image {tag} is missing: run `bash .ci/setup`"
    return tag


def own_leftovers(engine) -> tuple[list, list]:
    """Containers and volumes of this test process still on the engine (others may share the engine)."""
    from arctl.sandbox.engine import OWNER, owner_label
    from arctl.sandbox.policy import LABEL

    mine = {"label": [LABEL, f"{OWNER}={owner_label()}"]}
    return engine.containers.list(all=True, filters=mine), engine.volumes.list(filters=mine)


def compose_run(service: str, name: str, timeout: int = 900, **env: str):
    """`docker-compose run --rm SERVICE` of compose.yaml in its own project, then `down -v`; the finished process."""
    import subprocess

    project = ["docker-compose", "-p", f"arctltest{os.getpid()}{name}"]
    env = {**os.environ, **env}
    try:
        return subprocess.run([*project, "run", "--rm", service], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout)
    finally:
        subprocess.run([*project, "down", "-v"], cwd=REPO, env=env, capture_output=True, timeout=120)


def candidate(name: str, **replace: str) -> bytes:
    """A train.py from tests/candidates, with optional `NAME = value` lines replaced."""
    text = (CANDIDATES / name).read_text()
    for key, value in replace.items():
        text = text.replace(f"{key} = None", f"{key} = {value!r}")
    return text.encode()


@pytest.fixture
def run_candidate(heart_task, engine, image):
    """Evaluate a candidate in the sandbox and check no container is left behind."""
    from arctl import evaluate
    from arctl.sandbox.policy import Limits

    def run(source: bytes, **limits):
        result = evaluate.evaluate(source, heart_task, image, Limits(**{"deadline": 60, **limits}), engine=engine)
        assert own_leftovers(engine) == ([], []), "containers or volumes left behind"
        return result

    return run
