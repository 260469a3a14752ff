"""`arctl verify`: re-evaluate every kept commit of a run in fresh containers and compare."""

from __future__ import annotations

import dataclasses
import json

import git

from arctl import evaluate, repository
from arctl.errors import ArctlError
from arctl.ledger import Row
from arctl.prepare import PreparedTask
from arctl.sandbox.policy import Limits

INPUTS = ("image_id", "harness_sha256", "task_key", "data_sha256", "libraries")


@dataclasses.dataclass
class Check:
    iter: int
    commit: str
    ok: bool
    max_diff: float | None
    differed: dict[str, tuple]  # input -> (recorded, now)
    detail: str = ""


def run_branch(repo: git.Repo, name: str) -> str:
    """The run's branch: the local one, else the one fetched from origin (a fresh clone in CI)."""
    branch = repository.BRANCH_PREFIX + name
    if any(h.name == branch for h in repo.heads):
        return branch
    if any(r.name == f"origin/{branch}" for r in repo.refs):
        return f"origin/{branch}"
    raise ArctlError(f"there is no branch {branch} in {repo.working_tree_dir}")


def recorded_rows(repo: git.Repo, ledger_rows: list[Row] | None, branch: str, run: str) -> list[Row]:
    """The kept rows of a run: from its ledger when there is one, else from the git notes on the branch."""
    if ledger_rows is not None:
        return [r for r in ledger_rows if r.status.keeps]
    return chain_rows(repo, branch, run)


def chain_rows(repo: git.Repo, branch: str, run: str) -> list[Row]:
    """The rows noted on the branch, trusting nothing the branch says about itself.

    From the tip back to the baseline, every commit must be an arctl commit: one parent, a change to
    train.py only, and a note of this run saying it was kept. So the task, data and budget settings
    (arctl.toml) of the tip are exactly those of the baseline, the commit the run started from.
    """
    rows = []
    for commit in repo.iter_commits(branch, first_parent=True):
        note = repository.read_note(repo, run, commit.hexsha)
        try:
            row = Row.from_json({**json.loads(note), "commit": commit.hexsha}) if note else None
        except (ValueError, TypeError, KeyError, RecursionError):
            row = None
        if row is not None and row.iter == 0 and row.status.keeps:
            rows.append(row)
            return rows[::-1]
        problem = ("it carries no readable arctl note of this run" if row is None
                   else f"its note says {row.status}, not kept" if not row.status.keeps
                   else "it has more than one parent" if len(commit.parents) != 1
                   else None)
        if problem is None:
            diffs = commit.parents[0].diff(commit)
            paths = {d.a_path for d in diffs} | {d.b_path for d in diffs}
            if paths != {"train.py"}:
                problem = f"it changes {', '.join(sorted(p for p in paths if p)) or 'nothing'}, not only train.py"
        if problem:
            raise ArctlError(f"{branch} is not a run arctl made: commit {commit.hexsha[:10]} is not an arctl commit "
                             f"({problem}); verify refuses to trust it")
        rows.append(row)
    raise ArctlError(f"no baseline commit with an arctl note on {branch}; fetch the notes with "
                     f"`git fetch origin 'refs/notes/arctl/*:refs/notes/arctl/*'`")


def verify(repo: git.Repo, rows: list[Row], task: PreparedTask, image: str, limits: Limits, tolerance: float,
           engine=None, progress=lambda check: None) -> list[Check]:
    checks = []
    for row in rows:
        try:
            source = repository.train_py_at(repo, row.commit)
        except (ValueError, KeyError) as e:
            checks.append(Check(row.iter, row.commit, False, None, {}, f"commit or train.py missing: {e}"))
            progress(checks[-1])
            continue
        result = evaluate.evaluate(source, task, image, limits, engine=engine)
        now = {"image_id": result.image_id, "harness_sha256": result.harness_sha256, "task_key": result.task_key,
               "data_sha256": result.data_sha256, "libraries": result.libraries}
        differed = {k: (getattr(row, k), now[k]) for k in INPUTS if getattr(row, k) and getattr(row, k) != now[k]}
        recorded = row.folds or {}
        if result.verdict != "ok":
            check = Check(row.iter, row.commit, False, None, differed, f"verdict {result.verdict}: {result.reason}")
        elif sorted(recorded) != sorted(result.fold_scores):
            check = Check(row.iter, row.commit, False, None, differed, "the recorded folds differ")
        else:
            diff = max(abs(recorded[f] - result.fold_scores[f]) for f in recorded)
            mean_diff = abs((row.val or 0.0) - result.mean)
            ok = diff <= tolerance and mean_diff <= tolerance + 1e-12
            detail = "" if ok else (f"per-fold scores differ by up to {diff:.3g}" if diff > tolerance
                                    else f"the recorded mean differs by {mean_diff:.3g}")
            check = Check(row.iter, row.commit, ok, max(diff, mean_diff), differed, detail)
        checks.append(check)
        progress(check)
    return checks
