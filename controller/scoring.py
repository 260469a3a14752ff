"""Validate a predictions file and score it with labels only the host holds."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics


class InvalidPredictions(ValueError):
    """The predictions file breaks the format; the message says how."""


class MissingPredictions(InvalidPredictions):
    """The job wrote no predictions file at all."""


def read_predictions_file(path: Path, cap: int) -> bytes:
    """The bytes of a predictions file, if it is a regular file within the size cap.

    Links, FIFOs, devices and directories are refused without being opened for reading
    (O_NOFOLLOW, O_NONBLOCK), so a hostile job cannot make the host follow or block on them.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise MissingPredictions(f"{path.name} was not written") from None
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


def parse_predictions(raw: bytes, expected_ids: pd.Index) -> pd.Series:
    """Scores indexed by row id; exactly the expected ids, each once, all finite."""
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype={"row_id": "string", "score": "string"})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InvalidPredictions(f"predictions.csv is not a readable CSV: {e}") from None
    if list(frame.columns) != ["row_id", "score"]:
        raise InvalidPredictions(f"predictions.csv must have the columns row_id,score; found {list(frame.columns)[:5]}")
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
    score = pd.to_numeric(frame["score"], errors="coerce").astype("float64")
    if not np.isfinite(score.to_numpy()).all():
        raise InvalidPredictions("predictions.csv has scores that are missing, NaN or infinite")
    return pd.Series(score.to_numpy(), index=ids.to_numpy()).loc[expected_ids]


METRICS = {
    "roc_auc": metrics.roc_auc_score,
}


def score(metric: str, labels: pd.Series, predictions: pd.Series) -> float:
    return float(METRICS[metric](labels.to_numpy(), predictions.loc[labels.index].to_numpy()))
