"""`arctl run --workers N`: several candidates in flight, real engine, real git, the installed CLI."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

import git
import pytest
from test_ratchet import assert_consistent, ledger

from arctl import progress

from conftest import HEART_DATA
from test_cli import ARCTL, arctl

pytestmark = pytest.mark.docker


def workspace(tmp_path: Path, kind: str) -> Path:
    root = tmp_path / "research"
    arctl("init", str(root), cwd=tmp_path)
    toml = root / "arctl.toml"
    toml.write_text(toml.read_text().replace('kind = "auto"', f'kind = "{kind}"', 1))
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qa", "--amend",
                    "--no-edit"], cwd=root, check=True)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=root)
    return root


def first_parents(ws: Path, branch="autoresearch/demo") -> list[str]:
    return git.Repo(ws).git.rev_list("--first-parent", branch).split()


def paired_delta(row: dict, best: dict) -> float:
    return statistics.fmean(row["folds"][k] - best["folds"][k] for k in row["folds"])


def check_judged_at_finish(rows: list[dict]) -> None:
    """Every scored row was compared with the best recorded before it (the best when it finished)."""
    best = rows[0]
    for r in rows[1:]:
        if r["status"] in ("KEPT", "DISCARDED"):
            assert r["delta"] == pytest.approx(paired_delta(r, best), abs=1e-12), r["iter"]
        if r["status"] == "KEPT":
            best = r


def test_three_workers_record_in_finishing_order_and_move_the_branch_only_to_winners(tmp_path, engine):
    ws = workspace(tmp_path, "compose")
    seen, stop = [], threading.Event()

    def watch_progress():  # what `arctl status demo --watch` reads, polled while the run goes on
        while not stop.is_set():
            state = progress.read(ws, "demo")
            if state and state.get("candidates"):
                seen.append(state["candidates"])
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_progress, daemon=True)
    watcher.start()
    try:
        proc = arctl("run", "demo", "--workers", "3", "--max-iters", "8", cwd=ws)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert max(len(c) for c in seen) >= 2, "progress never showed two candidates in flight"
    assert any(c["phase"] == "evaluating" and c["folds_done"] > 0 for s in seen for c in s.values())
    assert any(c["phase"] == "agent" for s in seen for c in s.values())
    assert progress.read(ws, "demo")["candidates"] == {}  # nothing in flight once it stopped
    rows = assert_consistent(ws, engine)  # iters contiguous, tsv = ledger, tip = best kept, nothing in flight
    assert len(rows) == 8, proc.stdout
    assert [r["tried"] for r in rows] == list(range(1, 9))
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)  # finishing order
    assert sorted(r["candidate"] for r in rows) == list(range(8))  # each candidate once
    # Candidates were really in flight together, and no two of those had the same proposal.
    overlapping = [(a, b) for i, a in enumerate(rows[1:], 1) for b in rows[i + 1:]
                   if b["time"] - b["seconds"] < a["time"]]
    assert overlapping, "no two candidates were in flight at the same time"
    for a, b in overlapping:
        assert a["candidate_sha256"] != b["candidate_sha256"] and a["hypothesis"] != b["hypothesis"]
    check_judged_at_finish(rows)
    kept = [r["commit"] for r in rows if r["status"] in ("BASELINE", "KEPT")]
    assert first_parents(ws)[::-1] == kept  # the branch is the chain of winners, nothing else
    repo = git.Repo(ws)
    for r in (r for r in rows[1:] if r["commit"]):
        assert repo.git.rev_parse(f"refs/arctl/demo/iter-{r['iter']}") == r["commit"]
    assert not repo.git.for_each_ref("refs/arctl/demo/inflight/")  # no candidate left in flight
    assert not (ws / "runs" / "demo" / "inflight.json").exists()
    # The chain of winners is what `arctl verify` walks: one parent each, train.py only, a kept note, reproduced.
    verified = arctl("verify", "demo", cwd=ws)
    assert f"all {len(kept)} kept commits reproduce" in verified.stdout  # the baseline included


STRONG = Path(__file__).resolve().parents[1] / "artifact/arctl/artifact/catalog/classification/01_onehot_categoricals.py"
# Each call takes the next number (mkdir is atomic); the first proposes at once, the second after a pause,
# both from the baseline, the second the same model as the first (a changed hypothesis line only).
TWO_AGENTS = """set -e
n=1; while ! mkdir "{d}/call-$n" 2>/dev/null; do n=$((n+1)); done
cp "{d}/strong.py" train.py
if [ "$n" = 2 ]; then
  sleep {pause}
  sed -i 's/^HYPOTHESIS = .*/HYPOTHESIS = "the same one-hot model, proposed while the first was in flight"/' train.py
fi
"""


def test_a_candidate_is_judged_against_the_best_when_it_finishes(tmp_path, engine):
    """The second candidate beats the best of its start (the baseline) but not the best of its finish
    (the first candidate, kept meanwhile): it is DISCARDED, and the branch never carries it."""
    ws = workspace(tmp_path, "catalog")
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    (agent_dir / "strong.py").write_text(STRONG.read_text())
    (agent_dir / "agent.sh").write_text(TWO_AGENTS.format(d=agent_dir, pause=25))
    arctl("run", "demo", "--workers", "2", "--max-iters", "3", "--agent-command", f"sh {agent_dir}/agent.sh",
          "--agent-path", f"{agent_dir}:rw", cwd=ws)
    rows = assert_consistent(ws, engine)
    baseline, first, second = rows
    assert {first["candidate"], second["candidate"]} == {1, 2}  # which agent call got which number is the threads'
    assert "proposed while the first was in flight" in second["hypothesis"]  # the paused one finished last
    assert first["status"] == "KEPT", "the one-hot model no longer beats the baseline: pick another strong model"
    assert second["status"] == "DISCARDED" and second["delta"] == 0.0  # judged against the first: same predictions
    # Against the best at its start it would have been kept: the same paired gain that kept the first.
    assert paired_delta(second, baseline) == pytest.approx(first["delta"]) and first["delta"] > first["margin"]
    started = second["time"] - second["seconds"]
    assert started < first["time"]  # it really was in flight when the first was kept
    check_judged_at_finish(rows)
    assert first_parents(ws)[::-1] == [baseline["commit"], first["commit"]]
    second_commit = git.Repo(ws).commit(second["commit"])
    assert second_commit.parents[0].hexsha == baseline["commit"]  # committed on the best of its start, off the branch


def _inflight(ws: Path) -> list[dict]:
    try:
        return json.loads((ws / "runs" / "demo" / "inflight.json").read_text())["candidates"]
    except (OSError, ValueError, KeyError):
        return []


def _rows_now(ws: Path) -> list[dict]:
    try:
        return ledger(ws)
    except (OSError, ValueError):
        return []


def _kill_when(proc, predicate, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before the moment to kill it: {proc.communicate()}")
        if (seen := predicate()):
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            return seen
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("timed out waiting for the moment to kill the run")


def test_kill_9_with_three_in_flight_then_resume_scores_each_candidate_once(tmp_path, engine):
    ws = workspace(tmp_path, "compose")
    argv = [ARCTL, "run", "demo", "--workers", "3", "--max-iters", "9"]
    proc = subprocess.Popen(argv, cwd=ws, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The moment: at least one candidate recorded, two or more committed and in flight.
    flying = _kill_when(proc, lambda: len(_rows_now(ws)) >= 2 and
                        [c for c in _inflight(ws) if c["commit"]][1:] and _inflight(ws))
    before = ledger(ws)
    committed = {c["candidate"]: c["commit"] for c in flying if c["commit"]}
    assert len(committed) >= 2 and proc.returncode == -signal.SIGKILL
    repo = git.Repo(ws)
    assert all(repo.git.rev_parse(f"refs/arctl/demo/inflight/{n}") == sha for n, sha in committed.items())
    # The tip is the last winner recorded, or the one before it when the kill fell between a winner's row and the
    # branch moving to it (the resume moves it; see the test below).
    assert repo.head.commit.hexsha in [r["commit"] for r in before if r["status"] in ("BASELINE", "KEPT")][-2:]

    # Killed again while the resume re-evaluates the first of them: that one is then recorded as failed.
    proc = subprocess.Popen(argv, cwd=ws, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    again = _kill_when(proc, lambda: [c for c in _inflight(ws) if c.get("recoveries") == 1])
    crashed = again[0]["candidate"]
    resumed = arctl(*argv[1:], cwd=ws)

    rows = assert_consistent(ws, engine)
    assert rows[:len(before)] == before  # nothing recorded was changed
    assert len(rows) == 9
    numbers = [r["candidate"] for r in rows]
    assert len(numbers) == len(set(numbers))  # nothing scored twice
    by_number = {r["candidate"]: r for r in rows}
    for n, sha in committed.items():  # every candidate in flight at the kill is recorded exactly once
        assert n in by_number, n
        assert repo.commit(by_number[n]["commit"]).tree == repo.commit(sha).tree  # (a winner is re-parented)
    assert by_number[crashed]["status"] == "CRASHED" and "crashed while evaluating" in by_number[crashed]["reason"]
    assert "recording it as failed" in resumed.stdout
    assert [n for n in committed if n != crashed and by_number[n]["status"] != "CRASHED"]  # others re-evaluated
    check_judged_at_finish(rows)
    kept = [r["commit"] for r in rows if r["status"] in ("BASELINE", "KEPT")]
    assert first_parents(ws)[::-1] == kept and repo.head.commit.hexsha == kept[-1]
    assert not repo.git.for_each_ref("refs/arctl/demo/inflight/")


def test_killed_between_its_row_and_the_inflight_record_a_candidate_is_not_scored_twice(tmp_path, engine):
    ws = workspace(tmp_path, "compose")
    proc = arctl("run", "demo", "--workers", "3", "--max-iters", "6", cwd=ws, env={"ARCTL_FAULT": "after_record:2"},
                 check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    before = ledger(ws)
    assert before[-1]["candidate"] == 2
    assert 2 in [c["candidate"] for c in _inflight(ws) if c["commit"]]  # still named as in flight
    resumed = arctl("run", "demo", "--workers", "3", "--max-iters", "6", cwd=ws)
    rows = assert_consistent(ws, engine)
    assert rows[:len(before)] == before and len(rows) == 6
    assert [r["candidate"] for r in rows].count(2) == 1, resumed.stdout
    assert "candidate 2 (" not in resumed.stdout  # not evaluated again
    check_judged_at_finish(rows)


def test_killed_between_a_winners_row_and_the_branch_move_the_resume_moves_it(tmp_path, engine):
    """The row says KEPT, but neither the note nor the branch had followed: the resume completes both, so the
    tip is the winner and `arctl verify` finds the chain it walks intact."""
    ws = workspace(tmp_path, "catalog")  # candidate N takes catalog entry N: entry 1 beats the baseline
    argv = ["run", "demo", "--workers", "2", "--max-iters", "2"]  # one candidate in flight, the one killed
    proc = arctl(*argv, cwd=ws, env={"ARCTL_FAULT": "after_record:1"}, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    baseline, winner = ledger(ws)
    assert winner["status"] == "KEPT" and winner["candidate"] == 1
    repo = git.Repo(ws)
    assert repo.head.commit.hexsha == baseline["commit"]  # the branch had not moved yet
    resumed = arctl(*argv, cwd=ws)
    assert "moving the branch to the best" in resumed.stdout
    rows = assert_consistent(ws, engine)  # the tip is the winner, and every row has its note
    assert [r["commit"] for r in rows] == [baseline["commit"], winner["commit"]]
    assert "all 2 kept commits reproduce" in arctl("verify", "demo", cwd=ws).stdout


def test_ctrl_c_with_three_in_flight_finishes_them_then_stops(tmp_path, engine):
    ws = workspace(tmp_path, "compose")
    proc = subprocess.Popen([ARCTL, "run", "demo", "--workers", "3", "--max-iters", "12"], cwd=ws, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not (len(_rows_now(ws)) >= 2 and len([c for c in _inflight(ws) if c["commit"]]) >= 2):
        assert time.monotonic() < deadline and proc.poll() is None, "never had two candidates in flight"
        time.sleep(0.05)
    flying = {c["candidate"] for c in _inflight(ws)}
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rows = assert_consistent(ws, engine)
    assert flying <= {r["candidate"] for r in rows}  # what was in flight was finished and recorded ...
    assert max(r["candidate"] for r in rows) <= max(flying)  # ... and nothing new was started
    assert json.loads((ws / "runs" / "demo" / "run.json").read_text())["stops"][-1]["reason"] == "interrupted by Ctrl-C"
    assert not git.Repo(ws).git.for_each_ref("refs/arctl/demo/inflight/")
