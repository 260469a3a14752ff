"""Shared fixtures. Sandbox tests run against the real Docker engine and the real image:
when either is missing they fail with the reason, they are never skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
HEART_DATA = Path(os.environ.get("ARCTL_HEART_DATA", SHARED / "data" / "heart" / "processed.cleveland.data"))
CANDIDATES = Path(__file__).resolve().parent / "candidates"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def arctl_home(tmp_path_factory):
    """Every test session gets its own host-side store, so nothing leaks between runs."""
    home = tmp_path_factory.mktemp("arctl-home")
    os.environ["ARCTL_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def heart_task(arctl_home):
    from arctl import prepare, tasks

    assert HEART_DATA.is_file(), f"the heart data is expected at {HEART_DATA} (see ../shared/data/heart/README.md)"
    return prepare.prepare(tasks.HEART, HEART_DATA)


@pytest.fixture(scope="session")
def engine():
    from arctl.sandbox import runner

    return runner.client()  # raises with instructions when no engine runs


@pytest.fixture(scope="session")
def image(engine):
    from arctl.sandbox import image

    tag = image.image_tag()
    assert image.find(engine, tag) is not None, f"sandbox image {tag} is missing: run `bash .ci/setup`"
    return tag


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
    from arctl.sandbox.policy import LABEL, Limits

    def run(source: bytes, **limits):
        result = evaluate.evaluate(source, heart_task, image, Limits(**{"deadline": 60, **limits}), engine=engine)
        left = engine.containers.list(all=True, filters={"label": LABEL})
        assert left == [], f"containers left behind: {left}"
        return result

    return run
