"""The agent's view of the task: a description of the data, never the data itself."""

from __future__ import annotations

import pandas as pd

from arctl.prepare import TARGET, TEST_JOB, PreparedTask
from arctl.sandbox.policy import Limits, MiB

LIBRARIES = "numpy, scipy, pandas, scikit-learn, lightgbm, xgboost (CPU), flaml"
OUTPUT = {
    "binary": "build_pipeline() returns a classifier with fit/predict_proba; class 1 is the positive class",
    "multiclass": "build_pipeline() returns a classifier with fit/predict_proba; the classes are encoded 0..K-1",
    "regression": "build_pipeline() returns a regressor with fit/predict",
}


def task_card(task: PreparedTask, limits: Limits) -> str:
    spec = task.spec
    # All training rows (the test job's fit set); the test rows are not described.
    train = pd.read_csv(task.job_dir(TEST_JOB) / "train.csv")
    y = train.pop(TARGET)
    lines = [
        f"Task: {spec.name} ({spec.task_type})",
        f"Metric: {spec.metric}, {'higher' if spec.greater_is_better else 'lower'} is better, mean over "
        f"{spec.folds} {'grouped ' if spec.group else ''}folds of the {len(train)} training rows",
        f"Target: {spec.target}" + (f" > {spec.positive_above:g} is class 1" if spec.positive_above is not None else ""),
        f"Contract: {OUTPUT[spec.task_type]}",
    ]
    if spec.task_type == "regression":
        lines.append(f"Target distribution: mean {y.mean():.4g}, std {y.std():.4g}, min {y.min():.4g}, "
                     f"median {y.median():.4g}, max {y.max():.4g}")
    else:
        names = list(task.classes) or [str(k) for k in sorted(y.unique())]
        lines.append("Class balance: " + ", ".join(
            f"{k} = {names[k] if k < len(names) else k}: {v} ({v / len(y):.0%})"
            for k, v in y.value_counts().sort_index().items()))
    lines += [
        f"Budget: {limits.deadline:g} s wall clock for all folds together; per fold container "
        f"{limits.cpus_per_job:g} CPU, {limits.memory // MiB} MiB memory, no network",
        f"Libraries: {LIBRARIES}",
        *(["Data lint at preparation: " + "; ".join(task.findings)] if task.findings else []),
        "",
        "| column | dtype | missing | distinct | min | max |",
        "|---|---|---|---|---|---|",
    ]
    for col in train.columns:
        s = train[col]
        numeric = pd.api.types.is_numeric_dtype(s)
        lines.append(f"| {col} | {s.dtype} | {int(s.isna().sum())} | {s.nunique()} | "
                     f"{s.min() if numeric else ''} | {s.max() if numeric else ''} |")
    return "\n".join(lines) + "\n"
