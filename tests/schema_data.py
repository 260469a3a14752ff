"""Small datasets with every column kind arctl accepts: numbers with gaps, coded categories, a text column with
missing and rare levels, a near-unique text column, a boolean; one per task type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arctl import tasks

COLOURS = ["red", "green", "blue", "amber", "violet"]


def frame(task_type: str, rows: int = 240, seed: int = 0, text: bool = True) -> pd.DataFrame:
    """text=False leaves booleans as the only non-numeric column (an imputer refuses them)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(COLOURS, size=rows, p=[0.35, 0.3, 0.2, 0.13, 0.02])
    signal = x1 + 0.8 * x2 * (colour == "red") + rng.normal(scale=0.7, size=rows)
    data = pd.DataFrame({
        "x1": x1, "x2": x2, "x3": rng.normal(size=rows), "level": rng.integers(0, 4, rows),
        "colour": colour, "note": [f"note {i}" for i in rng.integers(0, rows, rows)], "flag": rng.random(rows) > 0.5,
    })
    data.loc[rng.random(rows) < 0.15, "x1"] = np.nan
    data.loc[rng.random(rows) < 0.1, "colour"] = None
    data.loc[rng.random(rows) < 0.05, "note"] = None
    if not text:
        data = data.drop(columns=["colour", "note"])
    if task_type == "binary":
        data["y"] = np.where(signal > 0, "yes", "no")
    elif task_type == "multiclass":
        data["y"] = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))
    else:
        data["y"] = signal * 10 + 50
    return data


def spec(task_type: str, directory: Path, rows: int = 240, folds: int = 2, text: bool = True) -> tasks.TaskSpec:
    """A TaskSpec over a CSV written to directory."""
    name = f"mixed-{task_type}" + ("" if text else "-no-text")
    path = directory / f"{name}.csv"
    frame(task_type, rows, text=text).to_csv(path, index=False)
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[task_type]
    return tasks.TaskSpec(name=name, url=str(path), sha256=None, target="y", task_type=task_type,
                          metric=metric, positive_class="yes" if task_type == "binary" else None, folds=folds)
