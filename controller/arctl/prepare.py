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
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    train_test_split,
)

from arctl import lint, paths, scoring, tasks
from arctl.errors import ArctlError

PREP_VERSION = 2
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
    classes: tuple[str, ...] = ()  # original labels of the encoded classes 0..K-1 (classification)
    findings: tuple[str, ...] = ()  # what the data lint found and changed, as sentences

    @property
    def prediction_columns(self) -> list[str]:
        return scoring.prediction_columns(self.spec.task_type, len(self.classes))

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
                "n_train": self.n_train, "n_test": self.n_test, "spec": self.spec.to_json()}


def task_key(spec: tasks.TaskSpec, data_sha256: str) -> str:
    blob = json.dumps({"v": PREP_VERSION, "spec": spec.fingerprint(), "data": data_sha256}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class LintFailed(ArctlError):
    def __init__(self, message: str, findings: list[str]):
        super().__init__(message)
        self.findings = findings


def encode_target(spec: tasks.TaskSpec, y: pd.Series) -> tuple[pd.Series, list[str]]:
    """The target as the harness and metrics see it, and the original class labels (classification)."""
    if spec.task_type == "regression":
        values = pd.to_numeric(y, errors="coerce")
        if values.isna().any():
            raise ArctlError(f"the target {spec.target!r} of a regression task must be numeric; "
                             f"{int(values.isna().sum())} values are not")
        return values.astype("float64"), []
    if spec.positive_above is not None:
        return (pd.to_numeric(y) > spec.positive_above).astype(int), [f"<= {spec.positive_above:g}", f"> {spec.positive_above:g}"]
    labels = sorted(y.astype(str).unique())
    if spec.task_type == "binary":
        if len(labels) > 2:
            raise ArctlError(f"the target {spec.target!r} has {len(labels)} classes; declare task_type = \"multiclass\"")
        positive = spec.positive_class if spec.positive_class is not None else labels[-1]
        if positive not in labels:
            raise ArctlError(f"positive_class {positive!r} is not a value of {spec.target!r} ({', '.join(labels)})")
        negative = [c for c in labels if c != positive]
        return (y.astype(str) == positive).astype(int), [*negative[:1], positive]
    return y.astype(str).map({c: i for i, c in enumerate(labels)}).astype(int), labels


def prepare(spec: tasks.TaskSpec, data: Path | None = None) -> PreparedTask:
    """Prepare (or reuse) the jobs of a task. A re-run with the same data is a cache hit.

    What the data lint found and changed is kept with the prepared task (PreparedTask.findings),
    so a cached preparation says it again.
    """
    path = tasks.locate_data(spec, data)
    key = task_key(spec, tasks.sha256_file(path))
    root = paths.tasks_dir() / f"{spec.name}-{key}"
    sealed = paths.sealed_dir() / f"{spec.name}-{key}"
    manifest = root / "manifest.json"
    if manifest.is_file():
        return from_manifest(manifest)

    frame = tasks.load_frame(spec, path)
    said: list[str] = []
    report = said.append
    unlabelled = frame[spec.target].isna()
    if unlabelled.any():
        report(f"dropped {int(unlabelled.sum())} rows with no target value")
        frame = frame[~unlabelled]
    duplicated = frame.duplicated()
    if duplicated.any():
        # Copies of a row would sit on both sides of a split and reward memorisation.
        report(f"dropped {int(duplicated.sum())} exact duplicate rows (kept the first of each)")
        frame = frame[~duplicated]
    y, classes = encode_target(spec, frame.pop(spec.target))
    groups = frame.pop(spec.group) if spec.group else None
    X = frame
    findings = lint.lint(X, y, spec.task_type, spec.folds, groups)
    for f in findings:
        report(("error: " if f.fatal else "warning: ") + f.message)
    fatal = [f.message for f in findings if f.fatal]
    if fatal:
        raise LintFailed(f"{path} cannot be used as it is: " + "; ".join(fatal), said)

    # Row ids are a seeded permutation so that they carry no information about file order.
    ids = np.random.default_rng(spec.seed).permutation(len(X))
    index = pd.Index(ids, name=ROW_ID)
    X, y = X.set_index(index), y.set_axis(index)
    groups = groups.set_axis(index) if groups is not None else None
    fit_rows, test_rows = _split_test(spec, X, y, groups)
    X_tr, y_tr, X_te, y_te = X.iloc[fit_rows], y.iloc[fit_rows], X.iloc[test_rows], y.iloc[test_rows]
    g_tr = groups.iloc[fit_rows] if groups is not None else None
    # Write into a scratch directory and rename at the end: a crash never leaves half a cache.
    scratch = root.with_name(root.name + f".tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    plan = {}
    for k, (fit_idx, val_idx) in enumerate(_folds(spec, X_tr, y_tr, g_tr)):
        job = f"fold{k}"
        _write_job(scratch, job, spec, classes, X_tr.iloc[fit_idx], y_tr.iloc[fit_idx], X_tr.iloc[val_idx])
        _write_labels(scratch / "labels" / f"{job}.csv", y_tr.iloc[val_idx])
        plan[job] = sorted(int(i) for i in X_tr.index[val_idx])
    _write_job(scratch, TEST_JOB, spec, classes, X_tr, y_tr, X_te)
    sealed.mkdir(parents=True, exist_ok=True)
    os.chmod(sealed, 0o700)
    _write_labels(sealed / "test_labels.csv", y_te)
    (scratch / "fold_plan.json").write_text(json.dumps(plan))
    if groups is not None:
        (scratch / "groups.json").write_text(json.dumps({str(i): str(g) for i, g in groups.items()}))
    info = {"task": spec.name, "key": key, "data": str(path.resolve()), "n_train": len(X_tr), "n_test": len(X_te),
            "classes": classes, "spec": spec.to_json(), "findings": said}
    (scratch / "manifest.json").write_text(json.dumps(info, indent=2))
    if root.exists():  # another process won the race; its result is identical
        shutil.rmtree(scratch)
    else:
        os.replace(scratch, root)
    return from_manifest(manifest)


def _split_test(spec, X, y, groups):
    positions = np.arange(len(X))
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=spec.test_fraction, random_state=spec.seed)
        return next(splitter.split(X, y, groups))
    stratify = y if spec.task_type != "regression" else None
    return train_test_split(positions, test_size=spec.test_fraction, random_state=spec.seed, stratify=stratify)


def _folds(spec, X, y, groups):
    if groups is not None:
        if spec.task_type == "regression":
            return GroupKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed).split(X, y, groups)
        return StratifiedGroupKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed).split(X, y, groups)
    if spec.task_type == "regression":
        return KFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed).split(X, y)
    return StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed).split(X, y)


def from_manifest(manifest: Path) -> PreparedTask:
    info = json.loads(manifest.read_text())
    root = manifest.parent
    return PreparedTask(spec=tasks.TaskSpec.from_json(info["spec"]), key=info["key"], root=root,
                        sealed=paths.sealed_dir() / root.name, n_train=info["n_train"], n_test=info["n_test"],
                        classes=tuple(info["classes"]),
                        findings=tuple(f for f in info.get("findings", []) if isinstance(f, str)))


def _write_job(root: Path, job: str, spec: tasks.TaskSpec, classes: list[str], X_fit: pd.DataFrame,
               y_fit: pd.Series, X_predict: pd.DataFrame) -> None:
    d = root / "jobs" / job
    d.mkdir(parents=True)
    fit = X_fit.copy()
    fit[TARGET] = y_fit
    fit.reset_index(drop=True).to_csv(d / "train.csv", index=False)
    # The prediction rows go without labels: no container ever holds what it is scored on.
    X_predict.reset_index().to_csv(d / "predict.csv", index=False)
    (d / "job.json").write_text(json.dumps(
        {"job": job, "task_type": spec.task_type, "row_id": ROW_ID, "target": TARGET, "n_classes": len(classes)}))
    for p in (d, *d.iterdir()):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


def _write_labels(path: Path, y: pd.Series) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({ROW_ID: y.index, TARGET: y.values}).to_csv(path, index=False)
