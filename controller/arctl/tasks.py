"""Declarative task specs and loading their data.

A task says where its data comes from, what the target is and how it is scored; nothing
else in arctl (least of all the harness) knows about a particular dataset.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pandas as pd

from arctl import paths
from arctl.errors import ArctlError

TASK_TYPES = ("binary", "multiclass", "regression")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What a task is: where the data is, what to predict, how it is scored and split."""

    name: str
    url: str  # a local path or an http(s) URL
    sha256: str | None
    target: str
    task_type: str = "binary"
    metric: str = "roc_auc"
    columns: tuple[str, ...] | None = None  # for files without a header row
    na_values: tuple[str, ...] = ()
    positive_above: float | None = None  # binary target = (target > value)
    positive_class: str | None = None  # binary target = (target == this label)
    group: str | None = None  # rows of one group never sit on both sides of a split
    id_columns: tuple[str, ...] = ()  # dropped before anything else
    folds: int = 5
    seed: int = 42
    test_fraction: float = 0.2
    data_env: str = "ARCTL_DATA"  # environment variable naming a local copy of the file

    def __post_init__(self):
        from arctl.scoring import METRICS

        if self.task_type not in TASK_TYPES:
            raise ArctlError(f"task type {self.task_type!r} is not one of {', '.join(TASK_TYPES)}")
        metric = METRICS.get(self.metric)
        if metric is None or self.task_type not in metric.task_types:
            allowed = [m for m, v in METRICS.items() if self.task_type in v.task_types]
            raise ArctlError(f"metric {self.metric!r} does not fit a {self.task_type} task; choose one of {', '.join(allowed)}")

    @property
    def greater_is_better(self) -> bool:
        """Declared by the metric (arctl never guesses a direction)."""
        from arctl.scoring import METRICS

        return METRICS[self.metric].greater_is_better

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> TaskSpec:
        d = dict(d)
        for key in ("columns", "na_values", "id_columns"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})

    def fingerprint(self) -> dict:
        """The fields that change prepared data."""
        d = dataclasses.asdict(self)
        for key in ("data_env", "url", "name"):
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
        raise ArctlError(f"unknown task {name!r}; built-in tasks: {', '.join(sorted(BUILTIN))}; "
                         "for your own data set task.data and task.target in arctl.toml") from None


TASK_KEYS = {"name", "data", "sha256", "target", "task_type", "metric", "positive_class", "group", "id_columns",
             "folds", "seed", "test_fraction", "na_values"}


def from_settings(task: dict) -> TaskSpec:
    """The [task] table of arctl.toml: a built-in task by name, or a declared data file.

    Keys left out take TaskSpec's defaults (and the task type's default metric), written only there.
    """
    unknown = sorted(set(task) - TASK_KEYS)
    if unknown:
        raise ArctlError(f"arctl.toml: unknown key(s) {', '.join('task.' + k for k in unknown)}; "
                         f"[task] knows {', '.join(sorted(TASK_KEYS))}")
    if "target" not in task:
        spec = get(task.get("name", "heart"))
        return dataclasses.replace(spec, url=str(task["data"])) if task.get("data") else spec
    from arctl.scoring import DEFAULT_METRIC

    if not task.get("data"):
        raise ArctlError("arctl.toml: task.data (a file path or URL) is required with task.target")
    given = {"sha256": None, **{k: v for k, v in task.items() if k not in ("data", "name")}}
    for key in ("id_columns", "na_values"):
        if key in given:
            given[key] = tuple(given[key])
    if given.get("positive_class") is not None:
        given["positive_class"] = str(given["positive_class"])
    given.setdefault("metric", DEFAULT_METRIC.get(given.get("task_type", TaskSpec.task_type), ""))
    try:
        spec = TaskSpec(name=task.get("name") or Path(str(task["data"])).stem, url=str(task["data"]), **given)
    except TypeError as e:
        raise ArctlError(f"arctl.toml [task]: {e}") from None
    for key, kind in (("folds", int), ("seed", int), ("test_fraction", float)):
        if not isinstance(getattr(spec, key), kind | int) or isinstance(getattr(spec, key), bool):
            raise ArctlError(f"arctl.toml: task.{key} must be a number, not {getattr(spec, key)!r}")
    return spec


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
    if explicit is None and not spec.is_remote:
        explicit = Path(spec.url)
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ArctlError(f"data file {path} does not exist (from --data or ${spec.data_env})")
        _check_sha(spec, path)
        return path
    cached = cached_download(spec)
    if cached.is_file():
        _check_sha(spec, cached)
        return cached
    _download(spec.url, cached)
    _check_sha(spec, cached)
    return cached


def cached_download(spec: TaskSpec) -> Path:
    """Where a remote data file is kept once downloaded (a copy placed there is used the same way)."""
    key = spec.sha256 or hashlib.sha256(spec.url.encode()).hexdigest()
    return paths.downloads_dir() / key / spec.filename


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


def read_table(path: Path, columns: tuple[str, ...] | None = None, na_values: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame, or a clear error."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, header=None if columns else "infer", names=list(columns) if columns else None,
                           na_values=list(na_values), keep_default_na=True)
    except ImportError as e:
        raise ArctlError(f"reading {path} needs a Parquet engine: pip install pyarrow ({e})") from e
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ArctlError(f"{path} is not a readable {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'} "
                         f"file: {e}") from e


def load_frame(spec: TaskSpec, path: Path) -> pd.DataFrame:
    """Read the data file: features, the target (still raw) and the group column, ID columns dropped."""
    frame = read_table(path, spec.columns, spec.na_values)
    if spec.columns and len(frame.columns) != len(spec.columns):
        raise ArctlError(f"{path}: expected {len(spec.columns)} columns, found {len(frame.columns)}")
    for col in (spec.target, spec.group, *spec.id_columns):
        if col is not None and col not in frame.columns:
            raise ArctlError(f"{path}: column {col!r} not found; the columns are {', '.join(map(str, frame.columns))}")
    if len(frame) == 0:
        raise ArctlError(f"{path} has no rows")
    return frame.drop(columns=list(spec.id_columns))


