"""Turn a task's data into sandbox jobs and host-held labels, cached by content hash.

Layout of one prepared task (all under ARCTL_HOME, never in a workspace):

    tasks/<name>-<key>/jobs/<job>/{train.csv, predict.csv, job.json}   mounted read-only, one per container
    tasks/<name>-<key>/labels/<job>.csv                                validation labels, host only
    sealed/<name>-<key>/test_labels.csv                                 test labels, host only
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from arctl import paths, tasks
from arctl.errors import ArctlError

PREP_VERSION = 1
ROW_ID = "__row_id__"
TARGET = "__target__"
TEST_JOB = "test"


@dataclasses.dataclass(frozen=True)
class PreparedTask:
    spec: tasks.TaskSpec
    key: str
    root: Path
    sealed: Path
    n_train: int
    n_test: int

    @property
    def fold_jobs(self) -> list[str]:
        return [f"fold{k}" for k in range(self.spec.folds)]

    def job_dir(self, job: str) -> Path:
        return self.root / "jobs" / job

    def labels(self, job: str) -> pd.Series:
        """Host-held labels of a job's prediction rows, indexed by row id."""
        path = self.sealed / "test_labels.csv" if job == TEST_JOB else self.root / "labels" / f"{job}.csv"
        frame = pd.read_csv(path)
        return frame.set_index(ROW_ID)[TARGET]

    def jobs_sha256(self) -> str:
        """A hash of every file a container may be given, as they are on disk now."""
        h = hashlib.sha256()
        for p in sorted((self.root / "jobs").rglob("*")):
            if p.is_file():
                h.update(p.relative_to(self.root).as_posix().encode() + b"\0" + p.read_bytes())
        return h.hexdigest()

    def to_json(self) -> dict:
        return {"task": self.spec.name, "key": self.key, "root": str(self.root), "sealed": str(self.sealed),
                "n_train": self.n_train, "n_test": self.n_test}


def task_key(spec: tasks.TaskSpec, data_sha256: str) -> str:
    blob = json.dumps({"v": PREP_VERSION, "spec": spec.fingerprint(), "data": data_sha256}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prepare(spec: tasks.TaskSpec, data: Path | None = None) -> PreparedTask:
    """Prepare (or reuse) the jobs of a task. A re-run with the same data is a cache hit."""
    path = tasks.locate_data(spec, data)
    key = task_key(spec, tasks.sha256_file(path))
    root = paths.tasks_dir() / f"{spec.name}-{key}"
    sealed = paths.sealed_dir() / f"{spec.name}-{key}"
    manifest = root / "manifest.json"
    if manifest.is_file():
        return from_manifest(spec, manifest)

    X, y = tasks.load_frame(spec, path)
    if y.nunique() < 2:
        raise ArctlError(f"the target of task {spec.name} has a single class; nothing to learn")
    # Row ids are a seeded permutation so that they carry no information about file order.
    ids = np.random.default_rng(spec.seed).permutation(len(X))
    X = X.set_index(pd.Index(ids, name=ROW_ID))
    y.index = X.index
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=spec.test_fraction, random_state=spec.seed, stratify=y
    )
    # Write into a scratch directory and rename at the end: a crash never leaves half a cache.
    scratch = root.with_name(root.name + f".tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    folds = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed)
    plan = {}
    for k, (fit_idx, val_idx) in enumerate(folds.split(X_tr, y_tr)):
        job = f"fold{k}"
        _write_job(scratch, job, spec, X_tr.iloc[fit_idx], y_tr.iloc[fit_idx], X_tr.iloc[val_idx])
        _write_labels(scratch / "labels" / f"{job}.csv", y_tr.iloc[val_idx])
        plan[job] = sorted(int(i) for i in X_tr.index[val_idx])
    _write_job(scratch, TEST_JOB, spec, X_tr, y_tr, X_te)
    sealed.mkdir(parents=True, exist_ok=True)
    os.chmod(sealed, 0o700)
    _write_labels(sealed / "test_labels.csv", y_te)
    (scratch / "fold_plan.json").write_text(json.dumps(plan))
    info = {"task": spec.name, "key": key, "data": str(path), "n_train": len(X_tr), "n_test": len(X_te),
            "spec": spec.fingerprint()}
    (scratch / "manifest.json").write_text(json.dumps(info, indent=2))
    if root.exists():  # another process won the race; its result is identical
        shutil.rmtree(scratch)
    else:
        os.replace(scratch, root)
    return from_manifest(spec, manifest)


def from_manifest(spec: tasks.TaskSpec, manifest: Path) -> PreparedTask:
    info = json.loads(manifest.read_text())
    root = manifest.parent
    return PreparedTask(spec=spec, key=info["key"], root=root,
                        sealed=paths.sealed_dir() / root.name,
                        n_train=info["n_train"], n_test=info["n_test"])


def _write_job(root: Path, job: str, spec: tasks.TaskSpec, X_fit: pd.DataFrame, y_fit: pd.Series,
               X_predict: pd.DataFrame) -> None:
    d = root / "jobs" / job
    d.mkdir(parents=True)
    fit = X_fit.copy()
    fit[TARGET] = y_fit
    fit.reset_index(drop=True).to_csv(d / "train.csv", index=False)
    # The prediction rows go without labels: no container ever holds what it is scored on.
    X_predict.reset_index().to_csv(d / "predict.csv", index=False)
    (d / "job.json").write_text(json.dumps(
        {"job": job, "task_type": spec.task_type, "row_id": ROW_ID, "target": TARGET}))
    for p in (d, *d.iterdir()):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


def _write_labels(path: Path, y: pd.Series) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({ROW_ID: y.index, TARGET: y.values}).to_csv(path, index=False)
