"""Any tabular task: declared data files, three task types, the data lint, grouped splits."""

from __future__ import annotations

import json

import git
import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from arctl import prepare, tasks

from conftest import HEART_DATA
from test_cli import arctl

HEART_COLUMNS = list(tasks.HEART.columns)


def export(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def sklearn_csv(loader, tmp_path) -> str:
    bunch = loader(as_frame=True)
    return export(bunch.frame, tmp_path / f"{loader.__name__.replace('load_', '')}.csv")


def heart_frame() -> pd.DataFrame:
    return pd.read_csv(HEART_DATA, header=None, names=HEART_COLUMNS, na_values="?")


@pytest.mark.docker
@pytest.mark.parametrize("loader, task_type, metric, plausible", [
    (datasets.load_breast_cancer, "binary", "roc_auc", lambda v: v > 0.95),
    (datasets.load_wine, "multiclass", "log_loss", lambda v: 0 < v < 0.3),
    (datasets.load_diabetes, "regression", "rmse", lambda v: 45 < v < 65),
])
def test_each_task_type_evaluates_end_to_end(tmp_path, image, loader, task_type, metric, plausible):
    data = sklearn_csv(loader, tmp_path)
    ws = tmp_path / "ws"
    arctl("init", str(ws), "--data", data, "--target", "target", cwd=tmp_path)
    toml = (ws / "arctl.toml").read_text()
    assert f'task_type = "{task_type}"   # inferred' in toml and f'metric = "{metric}"' in toml
    proc = arctl("prepare", cwd=ws)
    assert "verdict ok" in proc.stdout
    out = json.loads(arctl("eval", "train.py", "--json", cwd=ws).stdout)
    assert out["verdict"] == "ok" and out["metric"] == metric and len(out["fold_scores"]) == 5
    assert plausible(out["mean"]), out["mean"]
    assert out["greater_is_better"] == (metric == "roc_auc")


def test_duplicated_rows_are_caught_and_removed(tmp_path):
    heart = heart_frame()
    assert not heart.duplicated().any()
    copies = heart.sample(700, replace=True, random_state=1)
    data = export(pd.concat([heart, copies]), tmp_path / "dup.csv")
    spec = tasks.TaskSpec(name="dup", url=data, sha256=None, target="num", positive_above=0)
    task = prepare.prepare(spec)
    assert "dropped 700 exact duplicate rows (kept the first of each)" in task.findings
    assert prepare.prepare(spec).findings == task.findings  # a cached preparation says it again
    assert task.n_train + task.n_test == 303


def test_a_leaked_target_column_stops_prepare_with_what_to_do(tmp_path):
    heart = heart_frame()
    heart["diagnosis_code"] = (heart["num"] > 0).map({True: "sick", False: "well"})
    data = export(heart, tmp_path / "leak.csv")
    spec = tasks.TaskSpec(name="leak", url=data, sha256=None, target="num", positive_above=0)
    with pytest.raises(prepare.LintFailed, match="'diagnosis_code' is identical to, or a perfect predictor of"):
        prepare.prepare(spec)
    arctl("init", str(tmp_path / "ws2"), "--data", data, "--target", "diagnosis_code", cwd=tmp_path)
    proc = arctl("prepare", "--no-check", cwd=tmp_path / "ws2", check=False)
    assert proc.returncode == 2 and "'num' is identical to, or a perfect predictor of" in proc.stderr
    assert "Drop it (task.id_columns" in proc.stderr and "Nothing was prepared" in proc.stderr


@pytest.mark.parametrize("frame, why", [
    (pd.DataFrame({"x": range(50), "y": ["a"] * 50}), "single class"),
    (pd.DataFrame({"x": range(50), "y": ["a"] * 47 + ["b"] * 3}), "too few rows per class"),
])
def test_unusable_targets_are_refused(tmp_path, frame, why):
    data = export(frame, tmp_path / "t.csv")
    with pytest.raises(prepare.LintFailed, match=why):
        prepare.prepare(tasks.TaskSpec(name="t", url=data, sha256=None, target="y"))


def test_warnings_for_constant_and_id_like_columns_and_unlabelled_rows(tmp_path):
    heart = heart_frame()
    heart["constant"] = 1
    heart["record"] = [f"R{i:05d}" for i in range(len(heart))]
    heart.loc[:4, "num"] = np.nan
    data = export(heart, tmp_path / "w.csv")
    task = prepare.prepare(tasks.TaskSpec(name="w", url=data, sha256=None, target="num", positive_above=0))
    text = "\n".join(task.findings)
    assert "dropped 5 rows with no target value" in text
    assert "column 'constant' is constant" in text
    assert "column 'record' looks like an ID" in text


def test_a_grouped_task_never_puts_a_group_on_both_sides(tmp_path):
    heart = heart_frame()
    heart["patient"] = np.random.default_rng(0).integers(0, 60, len(heart))
    data = export(heart, tmp_path / "g.csv")
    task = prepare.prepare(tasks.TaskSpec(name="g", url=data, sha256=None, target="num", positive_above=0,
                                          group="patient"))
    groups = {int(k): v for k, v in json.loads((task.root / "groups.json").read_text()).items()}
    plan = json.loads((task.root / "fold_plan.json").read_text())
    train_ids = {i for ids in plan.values() for i in ids}
    test_ids = set(task.labels(prepare.TEST_JOB).index)
    assert {groups[i] for i in train_ids}.isdisjoint({groups[i] for i in test_ids})
    for job, validation in plan.items():
        fit = train_ids - set(validation)
        assert {groups[i] for i in fit}.isdisjoint({groups[i] for i in validation}), job
    assert "patient" not in pd.read_csv(task.job_dir("fold0") / "train.csv").columns


def test_metric_must_fit_the_task_type():
    with pytest.raises(tasks.ArctlError, match="does not fit a regression task; choose one of rmse, mae, r2"):
        tasks.TaskSpec(name="x", url="x.csv", sha256=None, target="y", task_type="regression", metric="roc_auc")


def test_parquet_files_are_read(tmp_path):
    bunch = datasets.load_iris(as_frame=True)
    path = tmp_path / "iris.parquet"
    bunch.frame.to_parquet(path)
    task = prepare.prepare(tasks.TaskSpec(name="iris", url=str(path), sha256=None, target="target",
                                          task_type="multiclass", metric="balanced_accuracy"))
    assert task.classes == ("0", "1", "2") and task.prediction_columns == ["p0", "p1", "p2"]


@pytest.mark.docker
def test_a_lower_is_better_metric_is_ratcheted_downwards(tmp_path, image):
    data = sklearn_csv(datasets.load_diabetes, tmp_path)
    ws = tmp_path / "ws"
    arctl("init", str(ws), "--data", data, "--target", "target", cwd=tmp_path)
    # A deliberately weak starting point (ridge regression is near-optimal on this data), so that the
    # catalog has lower RMSEs to find and the test sees both keeps and discards.
    train = ws / "train.py"
    train.write_text(train.read_text().replace("Ridge(alpha=1.0)", "Ridge(alpha=300.0)"))
    repo = git.Repo(ws)
    repo.index.add(["train.py"])
    repo.index.commit("weak baseline")
    arctl("prepare", "--no-check", cwd=ws)
    proc = arctl("run", "r", "--agent", "catalog", "--max-iters", "5", cwd=ws)
    assert "val_rmse=" in proc.stdout
    rows = [json.loads(line) for line in (ws / "runs" / "r" / "ledger.jsonl").read_text().splitlines()]
    best = rows[0]["val"]
    kept = 0
    for r in rows[1:]:
        # delta is the mean paired improvement: positive = lower RMSE
        assert r["delta"] == pytest.approx(best - r["val"])
        if r["status"] == "KEPT":
            assert r["val"] < best and r["delta"] > r["margin"] > 0
            best, kept = r["val"], kept + 1
        elif r["status"] == "DISCARDED":
            assert r["delta"] <= r["margin"]  # not better by more than its own noise
    assert kept >= 1 and "DISCARDED" in [r["status"] for r in rows], [(r["status"], r["val"]) for r in rows]


@pytest.mark.docker
def test_what_the_lint_did_is_said_again_on_a_cached_prepare_and_shown_by_status(tmp_path, image):
    heart = heart_frame()
    heart["sick"] = (heart.pop("num") > 0).astype(int)
    data = export(pd.concat([heart, heart.sample(40, random_state=3)]), tmp_path / "dups.csv")
    ws = tmp_path / "ws"
    arctl("init", str(ws), "--data", data, "--target", "sick", cwd=tmp_path)
    first = arctl("prepare", "--no-check", cwd=ws)
    again = arctl("prepare", "--no-check", cwd=ws)
    for proc in (first, again):
        assert "dropped 40 exact duplicate rows" in proc.stderr
    from arctl import state
    from arctl.settings import Settings
    from arctl.taskcard import task_card

    task, _ = state.load(ws)
    assert "dropped 40 exact duplicate rows" in task_card(task, Settings().limits())
    arctl("run", "r", "--max-iters", "1", cwd=ws)
    assert "data lint at preparation: dropped 40 exact duplicate rows" in arctl("status", cwd=ws).stdout
    assert "dropped 40 exact duplicate rows" in json.loads(arctl("status", "--json", cwd=ws).stdout)["data_lint"][0]
