"""`arctl init`: a research workspace is a git repository holding train.py, program.md, arctl.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

import git

from arctl import config
from arctl.errors import ArctlError

ARTIFACT = Path(__file__).resolve().parent / "artifact"
ACTOR = git.Actor("arctl", "arctl@localhost")
GITIGNORE = "# arctl's run outputs and per-workspace state: never committed on a run branch\nruns/\n.arctl/\n__pycache__/\n"


def init(directory: Path) -> Path:
    directory = directory.resolve()
    existing = [n for n in ("train.py", "program.md", config.FILE) if (directory / n).exists()]
    if existing:
        raise ArctlError(f"{directory} already holds {', '.join(existing)}; refusing to overwrite a workspace")
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACT / "train.py", directory / "train.py")
    shutil.copy(ARTIFACT / "program.md", directory / "program.md")
    (directory / config.FILE).write_text(config.TEMPLATE)
    gitignore = directory / ".gitignore"
    gitignore.write_text((gitignore.read_text() if gitignore.exists() else "") + GITIGNORE)
    try:
        repo = git.Repo(directory)
    except git.InvalidGitRepositoryError:
        repo = git.Repo.init(directory, initial_branch="main")
    repo.index.add(["train.py", "program.md", config.FILE, ".gitignore"])
    repo.index.commit("arctl workspace: baseline train.py, program.md, arctl.toml", author=ACTOR, committer=ACTOR)
    return directory
