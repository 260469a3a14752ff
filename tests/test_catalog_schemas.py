"""The baselines and every catalog entry run on any schema arctl accepts: text columns, missing values, each task type."""

from __future__ import annotations

import pytest
from schema_data import spec

from arctl import evaluate, prepare
from arctl.agents.catalog import CATALOG
from arctl.artifact import ROOT as ARTIFACT
from arctl.sandbox.policy import Limits

ENTRIES = [("binary", p) for p in sorted((CATALOG / "classification").glob("*.py"))] + \
          [("multiclass", p) for p in sorted((CATALOG / "classification").glob("*.py"))] + \
          [("regression", p) for p in sorted((CATALOG / "regression").glob("*.py"))] + \
          [("binary-no-text", p) for p in sorted((CATALOG / "classification").glob("*.py"))]
BASELINES = [("binary", ARTIFACT / "train.py"), ("binary-no-text", ARTIFACT / "train.py"),
             ("multiclass", ARTIFACT / "train.py"), ("regression", ARTIFACT / "train_regression.py")]


@pytest.fixture(scope="module")
def mixed_tasks(tmp_path_factory, arctl_home):
    directory = tmp_path_factory.mktemp("mixed")
    tasks = {kind: prepare.prepare(spec(kind, directory)) for kind in ("binary", "multiclass", "regression")}
    tasks["binary-no-text"] = prepare.prepare(spec("binary", directory, text=False))
    return tasks


@pytest.mark.docker
@pytest.mark.parametrize(("task_type", "entry"), BASELINES + ENTRIES,
                         ids=[f"{k}-{p.parent.name}-{p.stem}" for k, p in BASELINES + ENTRIES])
def test_catalog_entry_runs_on_text_and_missing_values(task_type, entry, mixed_tasks, engine, image):
    result = evaluate.evaluate(entry.read_bytes(), mixed_tasks[task_type], image, Limits(deadline=120), engine=engine)
    assert result.verdict == "ok", f"{entry.name} on {task_type}: {result.reason}\n{result.stderr_tail}"
