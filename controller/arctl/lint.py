"""Data lint at `arctl prepare`: findings that would make a metric meaningless.

Each finding is a sentence a user can act on. Fatal ones stop preparation; the others are
printed (and duplicates and unlabelled rows are removed, saying so).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class Finding:
    fatal: bool
    message: str


def lint(X: pd.DataFrame, y: pd.Series, task_type: str, folds: int, groups: pd.Series | None = None) -> list[Finding]:
    """Findings on the features X and the (encoded) target y, after duplicates were removed."""
    found: list[Finding] = []
    n = len(X)
    if task_type != "regression":
        counts = y.value_counts()
        if len(counts) < 2:
            found.append(Finding(True, f"the target has a single class ({counts.index[0]!r}); there is nothing to learn"))
        elif counts.min() < folds:
            rare = ", ".join(f"{k!r}: {v}" for k, v in counts[counts < folds].items())
            found.append(Finding(True, f"too few rows per class for {folds} folds ({rare}); collect more data, merge "
                                       "rare classes, or lower task.folds"))
        elif counts.min() < 2 * folds + 2:
            found.append(Finding(False, f"the rarest class has only {counts.min()} rows; its per-fold scores will be noisy"))
    elif y.nunique() < 2:
        found.append(Finding(True, "the target is constant; there is nothing to learn"))
    for col in X.columns:
        s = X[col]
        if s.nunique(dropna=False) <= 1:
            found.append(Finding(False, f"column {col!r} is constant; it carries no information"))
            continue
        if _leaks(s, y, task_type):
            found.append(Finding(True, f"column {col!r} is identical to, or a perfect predictor of, the target: it is "
                                       "a leak. Drop it (task.id_columns in arctl.toml) or fix the data"))
            continue
        if _id_like(s, n):
            found.append(Finding(False, f"column {col!r} looks like an ID (a distinct value on every row); if it is "
                                        "one, list it in task.id_columns so no model learns from it"))
    if groups is not None and groups.nunique() < folds + 1:
        found.append(Finding(True, f"only {groups.nunique()} groups for {folds} folds and a test split; lower task.folds"))
    return found


def _id_like(s: pd.Series, n: int) -> bool:
    if s.isna().any() or s.nunique() != n or n < 20:
        return False
    if pd.api.types.is_float_dtype(s):
        return bool((s == s.round()).all())  # integer codes stored as floats
    return True


def _leaks(s: pd.Series, y: pd.Series, task_type: str) -> bool:
    """The column determines the target exactly, without being a row-unique ID."""
    if task_type == "regression":
        x = pd.to_numeric(s, errors="coerce")
        if x.isna().mean() > 0.05 or x.nunique() < 3:
            return False
        return bool(np.isclose(abs(np.corrcoef(x.fillna(x.median()), y)[0, 1]), 1.0, atol=1e-9))
    if s.isna().any() or s.nunique() > max(len(s) // 2, y.nunique()):
        return False  # row-unique values trivially "determine" the target: that is the ID check's business
    return bool((pd.DataFrame({"x": s, "y": y}).groupby("x")["y"].nunique() == 1).all())
