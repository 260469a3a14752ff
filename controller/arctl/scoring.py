"""Validate a predictions file and score it with labels only the host holds."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics


class InvalidPredictions(ValueError):
    """The predictions file breaks the format; the message says how."""


class MissingPredictions(InvalidPredictions):
    """The job wrote no predictions file at all."""


def read_output_file(path: Path, cap: int) -> bytes:
    """The bytes of a file a job wrote, if it is a regular file within the size cap.

    Links, FIFOs, devices and directories are refused without being opened for reading
    (O_NOFOLLOW, O_NONBLOCK), so a hostile job cannot make the host follow or block on them.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise MissingPredictions(f"{path.name} was not written") from None
    except OSError as e:  # e.g. a name or directory the job made unreadable: its verdict, not the host's crash
        raise InvalidPredictions(f"{path.name} could not be examined: {e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidPredictions(f"{path.name} is not a regular file (link, FIFO, directory or device)")
    if st.st_size > cap:
        raise InvalidPredictions(f"{path.name} is larger than {cap} bytes")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise InvalidPredictions(f"{path.name} is not a regular file")
            data = f.read(cap + 1)
    except OSError as e:
        raise InvalidPredictions(f"{path.name} could not be read safely: {e}") from None
    if len(data) > cap:
        raise InvalidPredictions(f"{path.name} is larger than {cap} bytes")
    return data


def prediction_columns(task_type: str, n_classes: int = 2) -> list[str]:
    """The fixed prediction format of a task type, after the row_id column."""
    if task_type == "binary":
        return ["score"]  # the probability (or any monotone score) of class 1
    if task_type == "multiclass":
        return [f"p{k}" for k in range(n_classes)]  # one probability per encoded class
    return ["value"]


def parse_predictions(raw: bytes, expected_ids: pd.Index, columns: list[str] = ("score",),
                      probabilities: bool = False) -> pd.DataFrame:
    """Predictions indexed by row id: exactly the expected ids, each once, the expected columns, all finite."""
    columns = list(columns)
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype="string")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InvalidPredictions(f"predictions.csv is not a readable CSV: {e}") from None
    if list(frame.columns) != ["row_id", *columns]:
        raise InvalidPredictions(f"predictions.csv must have the columns {','.join(['row_id', *columns])}; "
                                 f"found {','.join(map(str, list(frame.columns)[:8]))}")
    ids = pd.to_numeric(frame["row_id"], errors="coerce")
    if ids.isna().any() or (ids != ids.round()).any():
        raise InvalidPredictions("predictions.csv has row ids that are not integers")
    ids = ids.astype("int64")
    if ids.duplicated().any():
        raise InvalidPredictions(f"predictions.csv repeats {int(ids.duplicated().sum())} row ids")
    missing = expected_ids.difference(ids)
    extra = pd.Index(ids).difference(expected_ids)
    if len(missing) or len(extra):
        raise InvalidPredictions(
            f"predictions.csv has the wrong rows: {len(missing)} expected ids missing, {len(extra)} unknown ids")
    values = frame[columns].apply(pd.to_numeric, errors="coerce").astype("float64").to_numpy()
    if not np.isfinite(values).all():
        raise InvalidPredictions("predictions.csv has scores that are missing, NaN or infinite")
    if probabilities and ((values < 0) | (values > 1)).any():
        raise InvalidPredictions("predictions.csv has probabilities outside [0, 1]")
    return pd.DataFrame(values, index=ids.to_numpy(), columns=columns).loc[expected_ids]


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    task_types: tuple[str, ...]
    greater_is_better: bool
    probabilities: bool  # the predictions must be probabilities in [0, 1]
    fn: Callable[[np.ndarray, np.ndarray], float]


def _proba(p: np.ndarray) -> np.ndarray:
    """Rows of class probabilities, clipped away from 0 and renormalised."""
    p = np.clip(p, 1e-15, 1.0)
    return p / p.sum(axis=1, keepdims=True)


def _binary_proba(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.ravel(), 1e-15, 1 - 1e-15)
    return np.column_stack([1 - p, p])


METRICS = {m.name: m for m in [
    Metric("roc_auc", ("binary",), True, False, lambda y, p: metrics.roc_auc_score(y, p.ravel())),
    Metric("log_loss", ("binary", "multiclass"), False, True,
           lambda y, p: metrics.log_loss(y, _binary_proba(p) if p.shape[1] == 1 else _proba(p),
                                         labels=list(range(max(2, p.shape[1]))))),
    Metric("accuracy", ("binary",), True, False, lambda y, p: metrics.accuracy_score(y, (p.ravel() >= 0.5).astype(int))),
    Metric("balanced_accuracy", ("multiclass",), True, False,
           lambda y, p: metrics.balanced_accuracy_score(y, p.argmax(axis=1))),
    Metric("roc_auc_ovr", ("multiclass",), True, True,
           lambda y, p: metrics.roc_auc_score(y, _proba(p), multi_class="ovr", average="macro",
                                              labels=list(range(p.shape[1])))),
    Metric("rmse", ("regression",), False, False, lambda y, p: float(np.sqrt(metrics.mean_squared_error(y, p.ravel())))),
    Metric("mae", ("regression",), False, False, lambda y, p: metrics.mean_absolute_error(y, p.ravel())),
    Metric("r2", ("regression",), True, False, lambda y, p: metrics.r2_score(y, p.ravel())),
]}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def score(metric: str, labels: pd.Series, predictions: pd.DataFrame) -> float:
    return float(METRICS[metric].fn(labels.to_numpy(), predictions.loc[labels.index].to_numpy()))
