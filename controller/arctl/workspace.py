"""`arctl init`: a research workspace is a git repository holding train.py, program.md, arctl.toml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from arctl import repository, settings
from arctl.artifact import ROOT as ARTIFACT
from arctl.errors import ArctlError

SLASH_COMMAND = ".claude/commands/autoresearch.md"
GITIGNORE = "# arctl's run outputs and per-workspace state: never committed on a run branch\nruns/\n.arctl/\n__pycache__/\n"


def task_table(data: str, target: str, task_type: str | None = None, metric: str | None = None,
               group: str | None = None, id_columns: tuple[str, ...] = (), sha256: str | None = None) -> tuple[str, str]:
    """The [task] table of arctl.toml for a user's data file. The task type may be inferred from the
    target column (and says so); the metric's direction is always the metric's own, never guessed."""
    from arctl import scoring, tasks

    inferred = ""
    if task_type is None:
        if not str(data).startswith(("http://", "https://")):
            frame = tasks.read_table(Path(data))
            if target not in frame.columns:
                raise ArctlError(f"{data} has no column {target!r}; its columns are {', '.join(map(str, frame.columns))}")
            task_type = infer_task_type(frame[target])
            inferred = "   # inferred from the target column: declare it if that is wrong"
        else:
            raise ArctlError("pass --task-type for a data file given by URL")
    metric = metric or scoring.DEFAULT_METRIC[task_type]
    spec = tasks.TaskSpec(name=Path(str(data)).stem, url=str(data), sha256=sha256, target=target, task_type=task_type,
                          metric=metric, group=group, id_columns=tuple(id_columns))  # validates type and metric
    lines = ["[task]", f"data = {json.dumps(str(data))}", f"target = {json.dumps(target)}",
             f"task_type = {json.dumps(task_type)}{inferred}",
             f"metric = {json.dumps(metric)}   # {'higher' if spec.greater_is_better else 'lower'} is better",
             f"folds = {spec.folds}", f"seed = {spec.seed}", f"test_fraction = {spec.test_fraction}"]
    lines.append(f"sha256 = {json.dumps(sha256)}" if sha256
                 else '# sha256 = "..."   # checked on every prepare when set')
    lines.append(f"group = {json.dumps(group)}" if group
                 else '# group = "patient_id"   # grouped CV: a group never sits on both sides')
    lines.append(f"id_columns = {json.dumps(list(id_columns))}" if id_columns
                 else '# id_columns = ["id"]   # dropped before anything else')
    return "\n".join(lines) + "\n", task_type


def infer_task_type(y) -> str:
    import pandas as pd

    values = y.dropna()
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 20:
        return "regression"
    if pd.api.types.is_float_dtype(values) and not (values == values.round()).all():
        return "regression"
    return "binary" if values.nunique() == 2 else "multiclass"


def init(directory: Path, task: str | None = None, task_type: str = "binary") -> Path:
    """Create a workspace; task is a [task] table for arctl.toml (default: the built-in heart task)."""
    directory = directory.resolve()
    existing = [n for n in ("train.py", "program.md", settings.FILE) if (directory / n).exists()]
    if existing:
        raise ArctlError(f"{directory} already holds {', '.join(existing)}; refusing to overwrite a workspace")
    directory.mkdir(parents=True, exist_ok=True)
    baseline = "train_regression.py" if task_type == "regression" else "train.py"
    shutil.copy(ARTIFACT / baseline, directory / "train.py")
    shutil.copy(ARTIFACT / "program.md", directory / "program.md")
    (directory / settings.FILE).write_text(settings.template(task or settings.HEART_TASK))
    slash = directory / SLASH_COMMAND  # `/autoresearch NAME` inside Claude Code starts or resumes `arctl run NAME`
    slash.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACT / "claude" / "autoresearch.md", slash)
    gitignore = directory / ".gitignore"
    gitignore.write_text((gitignore.read_text() if gitignore.exists() else "") + GITIGNORE)
    repo = repository.init_repo(directory)
    repository.commit(repo, ["train.py", "program.md", settings.FILE, ".gitignore", SLASH_COMMAND],
                      "arctl workspace: baseline train.py, program.md, arctl.toml")
    return directory
