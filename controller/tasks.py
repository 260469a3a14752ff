"""Declarative task specs and loading their data.

A task says where its data comes from, what the target is and how it is scored; nothing
else in arctl (least of all the harness) knows about a particular dataset.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pandas as pd

from arctl import paths
from arctl.errors import ArctlError


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    name: str
    url: str
    sha256: str | None
    target: str
    task_type: str = "binary"
    metric: str = "roc_auc"
    greater_is_better: bool = True
    columns: tuple[str, ...] | None = None  # for files without a header row
    na_values: tuple[str, ...] = ()
    positive_above: float | None = None  # binary target = (target > value)
    folds: int = 5
    seed: int = 42
    test_fraction: float = 0.2
    budget_seconds: float = 180.0
    data_env: str = "ARCTL_DATA"  # environment variable naming a local copy of the file

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def fingerprint(self) -> dict:
        """The fields that change prepared data (the budget does not)."""
        d = dataclasses.asdict(self)
        for key in ("budget_seconds", "data_env", "url"):
            d.pop(key)
        return d


HEART = TaskSpec(
    name="heart",
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/processed.cleveland.data",
    sha256="a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8",
    target="num",
    columns=("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach",
             "exang", "oldpeak", "slope", "ca", "thal", "num"),
    na_values=("?",),
    positive_above=0,
    data_env="ARCTL_HEART_DATA",
)

BUILTIN = {HEART.name: HEART}


def get(name: str) -> TaskSpec:
    try:
        return BUILTIN[name]
    except KeyError:
        raise ArctlError(f"unknown task {name!r}; built-in tasks: {', '.join(sorted(BUILTIN))}") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate_data(spec: TaskSpec, data: Path | None = None) -> Path:
    """Find the task's data file: --data, then the task's environment variable, then download.

    A declared sha256 is checked in every case, so a wrong or corrupted copy never gets used.
    """
    explicit = data or (Path(os.environ[spec.data_env]) if os.environ.get(spec.data_env) else None)
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ArctlError(f"data file {path} does not exist (from --data or ${spec.data_env})")
        _check_sha(spec, path)
        return path
    if not spec.sha256:
        raise ArctlError(f"task {spec.name} has no sha256; pass --data PATH to a local copy")
    cached = paths.downloads_dir() / spec.sha256 / spec.filename
    if cached.is_file():
        return cached
    _download(spec.url, cached)
    _check_sha(spec, cached)
    return cached


def _check_sha(spec: TaskSpec, path: Path) -> None:
    if spec.sha256 and (actual := sha256_file(path)) != spec.sha256:
        raise ArctlError(
            f"{path} has sha256 {actual}, but task {spec.name} expects {spec.sha256}. "
            "The file is corrupt or a different version: fetch it again from "
            f"{spec.url}"
        )


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as r, tempfile.NamedTemporaryFile(
            dir=dest.parent, delete=False
        ) as tmp:
            shutil.copyfileobj(r, tmp)
    except OSError as e:
        raise ArctlError(
            f"could not download {url}: {e}. Download it by hand and pass --data PATH."
        ) from e
    os.replace(tmp.name, dest)


def load_frame(spec: TaskSpec, path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Read the data file and return features and the (encoded) target."""
    try:
        frame = pd.read_csv(
            path,
            header=None if spec.columns else "infer",
            names=list(spec.columns) if spec.columns else None,
            na_values=list(spec.na_values),
            keep_default_na=True,
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ArctlError(f"{path} is not a readable CSV file: {e}") from e
    if spec.columns and len(frame.columns) != len(spec.columns):
        raise ArctlError(f"{path}: expected {len(spec.columns)} columns, found {len(frame.columns)}")
    if spec.target not in frame.columns:
        raise ArctlError(f"{path}: target column {spec.target!r} not found")
    if frame[spec.target].isna().any():
        raise ArctlError(f"{path}: {int(frame[spec.target].isna().sum())} rows have no target value")
    y = frame.pop(spec.target)
    if spec.positive_above is not None:
        y = (pd.to_numeric(y) > spec.positive_above).astype(int)
    y.name = "target"
    return frame, y


def describe(spec: TaskSpec) -> str:
    return json.dumps(dataclasses.asdict(spec), indent=2)
