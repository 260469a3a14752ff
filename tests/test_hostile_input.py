"""Job outputs and candidate sources are hostile input: nothing in them may crash the controller.

Offline tests feed the checks and the scorer directly; the docker tests run real hostile candidates in the
real sandbox, and the real ratchet through its fault-injection hook (ARCTL_FAULT).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import docker.errors
import pandas as pd
import pytest
from test_ratchet import assert_consistent
from test_ratchet import ws as ws  # a fixture

from arctl import checks, evaluate, scoring
from arctl.sandbox.policy import Limits

from conftest import HEART_DATA, candidate
from test_cli import arctl


def test_a_deeply_nested_source_is_rejected_not_a_crash(heart_task):
    source = candidate("deep_expression.py")
    assert 5000 < len(source) < checks.MAX_BYTES
    problems = checks.static_problems(source)
    assert problems and "could not be checked" in problems[0]
    assert checks.hypothesis(source) == ""
    result = evaluate.evaluate(source, heart_task, "no-such-image", Limits())  # no engine is touched
    assert result.verdict == "rejected" and "could not be checked" in result.reason


@pytest.mark.parametrize("raw", [
    b"row_id,score\n" + b"9" * 5000 + b",0.5\n",
    b"row_id,score\n1e400,0.5\n",
    b"row_id,score\n1," + b"9" * 5000 + b"\n",
    b"\xff\xfe\x00\x00",
    b"row_id,score\n1,0.5\n" * 3 + b'"' + b"[" * 3000,
])
def test_hostile_predictions_are_invalid_not_a_crash(raw):
    with pytest.raises(scoring.InvalidPredictions):
        scoring.parse_predictions(raw, pd.Index([1, 2, 3]))


@pytest.mark.docker
@pytest.mark.parametrize("mode", ["huge", "deep"])
def test_an_unreadable_phases_file_does_not_crash_the_controller(run_candidate, mode):
    """phases.json with 10**400 (OverflowError) or 2,000-deep nesting (RecursionError) once raised out of evaluate."""
    result = run_candidate(candidate("hostile_phases.py", MODE=mode))
    # The marks are informative only: unreadable ones are dropped, the predictions are still judged.
    assert result.verdict == "ok", result.reason + result.stderr_tail
    assert all("start" not in job["phases"] for job in result.jobs.values())
    assert 0.85 <= result.mean <= 0.95


@pytest.mark.docker
def test_a_commit_that_keeps_crashing_the_controller_is_recorded_as_failed(ws, engine):
    """Killed while evaluating iteration 2, then killed again re-evaluating it: the third start records it, once."""
    fault = {"ARCTL_FAULT": "during_eval:2"}
    for attempt in range(2):
        proc = arctl("run", "demo", "--max-iters", "3", cwd=ws, env=fault, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
        pending = json.loads((ws / "runs" / "demo" / "pending.json").read_text())
        assert pending["iter"] == 2 and pending.get("recoveries", 0) == attempt
    final = arctl("run", "demo", "--max-iters", "3", cwd=ws, env=fault)
    assert "interrupted 2 times while being evaluated; recording it as failed" in final.stdout
    rows = assert_consistent(ws, engine)
    assert [r["status"] for r in rows][2] == "CRASHED"
    assert "the controller crashed while evaluating this candidate" in rows[2]["reason"]
    assert len(rows) == 3


@pytest.mark.docker
def test_the_janitor_removes_only_dead_owners_of_this_host(engine, image):
    """A running job of another host sharing the engine, or of a live process here, is never removed."""
    from arctl.sandbox import engine as docker_engine
    from arctl.sandbox.policy import LABEL

    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    owners = {"dead": f"{here}:{dead.pid}", "alive": f"{here}:{os.getpid()}", "elsewhere": f"another-{here}:{dead.pid}"}
    made = {k: engine.containers.create(image, ["sleep", "600"], labels={LABEL: "1", docker_engine.OWNER: v})
            for k, v in owners.items()}
    try:
        docker_engine.remove_leftovers(engine)
        ids = {x.id for x in engine.containers.list(all=True)}
        assert made["dead"].id not in ids
        assert {made[k].id for k in ("alive", "elsewhere")} <= ids
    finally:
        for c in made.values():
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture(scope="module")
def sorted_task(tmp_path_factory):
    """The heart data sorted by its target, as exports often are."""
    from arctl import prepare, tasks

    path = tmp_path_factory.mktemp("sorted") / "sorted.data"
    lines = HEART_DATA.read_text().splitlines()
    path.write_text("\n".join(sorted(lines, key=lambda line: int(line.rsplit(",", 1)[1]) > 0)) + "\n")
    spec = dataclasses.replace(tasks.HEART, name="heart-sorted", url=str(path), sha256=None)
    return prepare.prepare(spec, path)


@pytest.mark.docker
def test_row_ids_and_file_order_reveal_nothing_of_the_original_order(sorted_task, engine, image):
    """Ids from the public seed once gave each row's file position: AUC 1.0 on a file sorted by target."""
    n = sorted_task.n_train + sorted_task.n_test
    result = evaluate.evaluate(candidate("row_order.py", N=n), sorted_task, image, Limits(deadline=60), engine=engine)
    assert result.verdict == "ok", result.reason + result.stderr_tail
    print(f"row-order candidate: mean validation AUC {result.mean:.3f}, folds {result.fold_scores}")
    assert 0.3 < result.mean < 0.7


def test_the_row_secret_stays_host_side_and_a_re_prepare_is_the_same(sorted_task):
    import shutil

    from arctl import prepare

    secret = sorted_task.sealed / "secret.json"
    assert secret.is_file() and sorted_task.root not in secret.parents
    assert not [p for p in sorted_task.root.rglob("*") if "secret" in p.name]
    before = sorted_task.jobs_sha256()
    shutil.rmtree(sorted_task.root)  # the cache is gone, the host's secret is not: the same jobs again
    again = prepare.prepare(sorted_task.spec, Path(sorted_task.spec.url))
    assert again.jobs_sha256() == before
    # In the sorted file the positives come last; in every job file they are spread through (no order kept).
    for job in sorted_task.fold_jobs:
        train = pd.read_csv(sorted_task.job_dir(job) / "train.csv")
        positions = train.index[train[prepare.TARGET] == 1].to_numpy() / len(train)
        assert 0.35 < positions.mean() < 0.65


def test_runtime_and_strict_isolation_reach_the_containers(tmp_path):
    from arctl import settings
    from arctl.sandbox import policy

    (tmp_path / "arctl.toml").write_text('[sandbox]\nruntime = "runsc"\nisolation = "strict"\n')
    limits = settings.load(tmp_path).limits()
    assert limits.concurrency == 1 and limits.cache_defence
    assert policy.container_kwargs(limits, {}, {})["runtime"] == "runsc"
    assert "runtime" not in policy.container_kwargs(settings.Settings().limits(), {}, {})
    (tmp_path / "arctl.toml").write_text('[sandbox]\nisolation = "lonely"\n')
    with pytest.raises(Exception, match="sandbox.isolation must be one of shared, strict"):
        settings.load(tmp_path)


def _noted_commit(repo, files: dict[str, str], note: dict | None) -> str:
    from arctl import repository

    for name, text in files.items():
        (Path(repo.working_tree_dir) / name).write_text(text)
    sha = repository.commit(repo, list(files), "x")
    if note is not None:
        repository.add_note(repo, "demo", sha, json.dumps({"run": "demo", **note}))
    return sha


@pytest.mark.parametrize("tip, why", [
    ({"train.py": "v3"}, None, ),
    ({"train.py": "v3", "arctl.toml": "[budget]\ndeadline = 1e9\n"}, "changes arctl.toml, train.py"),
])
def test_verify_from_notes_trusts_only_arctl_commits_back_to_the_baseline(tmp_path, tip, why):
    from arctl import repository, verify
    from arctl.errors import ArctlError

    repo = repository.init_repo(tmp_path)
    base = _noted_commit(repo, {"train.py": "v1", "arctl.toml": "[task]\n"}, {"iter": 0, "status": "BASELINE"})
    kept = _noted_commit(repo, {"train.py": "v2"}, {"iter": 1, "status": "KEPT"})
    assert [r.commit for r in verify.chain_rows(repo, repo.active_branch.name, "demo")] == [base, kept]
    _noted_commit(repo, tip, None)  # a hand-made tip: no note
    with pytest.raises(ArctlError, match="carries no readable arctl note"):
        verify.chain_rows(repo, repo.active_branch.name, "demo")
    repo.git.reset("--hard", kept)
    sha = _noted_commit(repo, tip, {"iter": 2, "status": "KEPT"})  # a forged note does not help either
    if why:
        with pytest.raises(ArctlError, match=why):
            verify.chain_rows(repo, repo.active_branch.name, "demo")
    else:
        assert verify.chain_rows(repo, repo.active_branch.name, "demo")[-1].commit == sha


@pytest.mark.docker
def test_compose_grading_keeps_its_deadline_when_the_candidate_stops_its_parent(image):
    """The candidate SIGSTOPs the `timeout` above it: once that stopped the deadline and the grading never ended."""
    from conftest import CANDIDATES, compose_run

    proc = compose_run("fit-fold0", "stop", timeout=300, ARCTL_DATA=str(HEART_DATA),
                       CANDIDATE=str(CANDIDATES / "stop_parent.py"), ARCTL_IMAGE=image, ARCTL_DEADLINE="10")
    assert proc.returncode != 0
    assert "could not stop my parent" in proc.stdout + proc.stderr
