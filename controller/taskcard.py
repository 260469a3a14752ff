"""The agent's view of the task: a description of the data, never the data itself."""

from __future__ import annotations

import pandas as pd

from arctl.prepare import TARGET, TEST_JOB, PreparedTask

LIBRARIES = "numpy, scipy, pandas, scikit-learn, lightgbm, xgboost (CPU), flaml"


def task_card(task: PreparedTask, deadline: float, memory_mib: int, cpus: float) -> str:
    spec = task.spec
    # All training rows (the test job's fit set); the test rows are not described.
    train = pd.read_csv(task.job_dir(TEST_JOB) / "train.csv")
    y = train.pop(TARGET)
    lines = [
        f"Task: {spec.name} ({spec.task_type} classification)",
        f"Metric: {spec.metric}, {'higher' if spec.greater_is_better else 'lower'} is better, "
        f"mean over {spec.folds} stratified folds of the {len(train)} training rows",
        f"Target: {spec.target}" + (f" > {spec.positive_above:g} is class 1" if spec.positive_above is not None else ""),
        "Class balance: " + ", ".join(f"class {k}: {v} ({v / len(y):.0%})" for k, v in y.value_counts().sort_index().items()),
        f"Budget: {deadline:g} s wall clock for all folds together; per fold container {cpus:g} CPU, "
        f"{memory_mib} MiB memory, no network",
        f"Libraries: {LIBRARIES}",
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
