"""The ratchet end to end: real git repositories, real containers, the installed CLI."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import git
import pytest

from arctl.ledger import read_tsv
from arctl.repository import read_note
from arctl.sandbox.policy import LABEL

from conftest import HEART_DATA
from fake_anthropic import FakeMessagesAPI, tool_reply
from test_cli import ARCTL, arctl

pytestmark = pytest.mark.docker


@pytest.fixture
def ws(tmp_path, heart_task, image):
    root = tmp_path / "research"
    arctl("init", str(root), cwd=tmp_path)
    # These tests rely on the catalog's fixed order (a keep and a discard within a few iterations).
    toml = root / "arctl.toml"
    toml.write_text(toml.read_text().replace('kind = "auto"', 'kind = "catalog"', 1))
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qa", "--amend",
                    "--no-edit"],
                   cwd=root, check=True)  # a run starts only from a clean workspace
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=root)
    return root


def ledger(ws: Path, name="demo") -> list[dict]:
    path = ws / "runs" / name / "ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def stops(ws: Path, name="demo") -> list[str]:
    return [s["reason"] for s in json.loads((ws / "runs" / name / "run.json").read_text())["stops"]]


def assert_consistent(ws: Path, engine, name="demo"):
    """Iterations contiguous and unique, tsv = ledger, branch tip = best kept, clean tree, nothing in flight."""
    rows = ledger(ws, name)
    assert [r["iter"] for r in rows] == list(range(len(rows)))
    tsv = read_tsv(ws / "runs" / name / "results.tsv")
    assert [(int(t["iter"]), t["status"], t["commit"]) for t in tsv] == \
           [(r["iter"], r["status"], (r["commit"] or "")[:12]) for r in rows]
    repo = git.Repo(ws)
    assert repo.active_branch.name == f"autoresearch/{name}"
    best = [r for r in rows if r["status"] in ("KEPT", "BASELINE")][-1]
    assert repo.head.commit.hexsha == best["commit"]
    assert not repo.is_dirty(untracked_files=False)
    assert not (ws / "runs" / name / "pending.json").exists()
    for r in rows:  # every recorded commit carries its row as a note: what `arctl verify` reads in a clone
        assert r["commit"] is None or read_note(repo, name, r["commit"]), f"no note on iteration {r['iter']}"
    # Left by an arctl process that has ended (the engine may be shared with other, running arctl processes).
    from arctl.sandbox.engine import left_behind
    assert [c for c in engine.containers.list(all=True, filters={"label": LABEL}, sparse=True)
            if left_behind(c.attrs.get("Labels"))] == []
    assert [v for v in engine.volumes.list(filters={"label": LABEL}) if left_behind(v.attrs.get("Labels"))] == []
    return rows


def test_catalog_run_keeps_and_discards_and_only_ever_changes_train_py(ws, engine):
    proc = arctl("run", "demo", "--max-iters", "5", cwd=ws)
    assert "agent: catalog (no ANTHROPIC_API_KEY is set" in proc.stderr or "agent: catalog" in proc.stdout + proc.stderr
    assert "iter 1 | val_auc=" in proc.stdout and "| KEPT" in proc.stdout
    rows = assert_consistent(ws, engine)
    statuses = [r["status"] for r in rows]
    assert len(rows) == 5 and statuses[0] == "BASELINE"
    assert "KEPT" in statuses and "DISCARDED" in statuses
    assert all(r["rule"] == "noise" and (r["margin"] is not None or r["iter"] == 0) for r in rows)

    repo = git.Repo(ws)
    on_branch = [c.hexsha for c in repo.iter_commits("autoresearch/demo")]
    kept = [r["commit"] for r in rows if r["status"] in ("KEPT", "BASELINE")]
    assert sorted(on_branch) == sorted(kept)  # baseline = the workspace's initial commit, then kept ones only
    for r in rows[1:]:
        commit = repo.commit(r["commit"])  # discarded attempts stay reachable ...
        assert repo.git.rev_parse(f"refs/arctl/demo/iter-{r['iter']}") == r["commit"]  # ... through a ref
        assert list(commit.stats.files) == ["train.py"]
        assert commit.message.startswith(r["hypothesis"])
    assert "test" not in json.dumps(rows[-1]["folds"])

    status = json.loads(arctl("status", "demo", "--json", cwd=ws).stdout)
    assert status["iterations"] == 5 and status["kept"] == statuses.count("KEPT")
    assert status["best"]["commit"] == kept[-1]
    assert "reached --max-iters 5" in stops(ws)[-1]
    table = arctl("status", cwd=ws).stdout
    assert "BASELINE" in table and "best: iteration" in table


def test_a_run_resumes_from_its_ledger(ws, engine):
    arctl("run", "demo", "--max-iters", "2", cwd=ws)
    arctl("run", "demo", "--max-iters", "3", cwd=ws)
    rows = assert_consistent(ws, engine)
    assert len(rows) == 3


@pytest.mark.parametrize("point", ["before_commit", "after_commit", "during_eval", "after_eval"])
def test_sigkill_at_any_point_then_resume_is_consistent(ws, engine, point):
    proc = arctl("run", "demo", "--max-iters", "4", cwd=ws, env={"ARCTL_FAULT": f"{point}:2"}, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    before = ledger(ws)
    assert [r["iter"] for r in before] == [0, 1]
    resumed = arctl("run", "demo", "--max-iters", "4", cwd=ws)
    if point in ("after_commit", "during_eval", "after_eval"):
        assert "committed but not recorded; evaluating it again" in resumed.stdout
    rows = assert_consistent(ws, engine)
    assert len(rows) == 4
    assert rows[:2] == before


@pytest.mark.parametrize("iteration", [1, 2])  # the catalog keeps iteration 1 and discards iteration 2
def test_sigkill_between_a_row_and_its_note_then_resume_restores_the_note(ws, engine, iteration):
    proc = arctl("run", "demo", "--max-iters", "4", cwd=ws, env={"ARCTL_FAULT": f"after_row:{iteration}"},
                 check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    before = ledger(ws)
    assert [r["status"] for r in before][-2:] == (["BASELINE", "KEPT"] if iteration == 1 else ["KEPT", "DISCARDED"])
    assert read_note(git.Repo(ws), "demo", before[-1]["commit"]) is None  # killed before the note was written
    resumed = arctl("run", "demo", "--max-iters", "4", cwd=ws)
    assert f"restoring the note of iteration {iteration}" in resumed.stdout
    rows = assert_consistent(ws, engine)
    assert len(rows) == 4 and rows[:len(before)] == before


def test_target_stops_the_run(ws, engine):
    arctl("run", "demo", "--target", "0.5", "--max-iters", "5", cwd=ws)
    assert len(assert_consistent(ws, engine)) == 1 and "--target 0.5" in stops(ws)[-1]


def test_patience_stops_the_run(ws, engine):
    arctl("run", "demo", "--patience", "1", "--max-iters", "8", cwd=ws)
    rows = assert_consistent(ws, engine)
    assert rows[-1]["status"] != "KEPT"
    assert "no candidate kept in the last 1 iterations (--patience)" in stops(ws)[-1]


def test_max_time_stops_the_run(ws, engine):
    arctl("run", "demo", "--max-time", "1", "--max-iters", "8", cwd=ws)
    assert len(assert_consistent(ws, engine)) == 1 and "--max-time 1" in stops(ws)[-1]


def test_leakage_tripwire_stops_the_run_and_keeps_nothing(ws, engine):
    baseline = json.loads(arctl("eval", "train.py", "--json", cwd=ws).stdout)["mean"]
    tripwire = round(baseline + 0.001, 4)  # just above the baseline: the first clearly better candidate trips it
    toml = ws / "arctl.toml"
    toml.write_text(toml.read_text().replace("tripwire = 0.99", f"tripwire = {tripwire}"))
    git.Repo(ws).index.add(["arctl.toml"])
    git.Repo(ws).index.commit("lower the tripwire")
    arctl("run", "demo", "--max-iters", "8", cwd=ws)
    rows = assert_consistent(ws, engine)
    assert rows[-1]["status"] == "TRIPWIRE" and rows[-1]["val"] >= tripwire
    assert "leakage tripwire" in stops(ws)[-1]


def test_claude_run_tracks_cost_stops_at_max_cost_and_keeps_secrets_out(ws, engine):
    dump_env = ('import os, sys\nHYPOTHESIS = "dump the environment"\n'
                'print("\\n".join(f"{k}={v}" for k, v in os.environ.items()), file=sys.stderr)\n'
                'raise SystemExit("env dumped")\n\ndef build_pipeline():\n    return None\n')
    api = FakeMessagesAPI([tool_reply("dump the environment", dump_env, input_tokens=2000, output_tokens=1000)])
    try:
        proc = arctl("run", "demo", "--agent", "claude", "--max-cost", "0.01", "--max-iters", "8", cwd=ws,
                     env={"ANTHROPIC_API_KEY": "sk-canary-4411", "ANTHROPIC_BASE_URL": api.url,
                          "ARCTL_CANARY": "canary-77"})
    finally:
        api.close()
    rows = assert_consistent(ws, engine)
    assert "agent: claude" in proc.stderr + proc.stdout
    assert [r["status"] for r in rows] == ["BASELINE", "CRASHED"]
    assert rows[1]["tokens"]["input"] == 2000 and rows[1]["cost_usd"] > 0.01
    assert "--max-cost" in stops(ws)[-1]
    tail = rows[1]["stderr_tail"]
    assert "HOME=/tmp" in tail and "sk-canary" not in tail and "canary-77" not in tail
    sent = api.headers[0]  # the key went to the API, and only there
    assert "sk-canary-4411" in (sent.get("x-api-key", "") + sent.get("authorization", ""))


def test_command_agent_run_ignores_other_files(ws, engine, tmp_path):
    script = tmp_path / "agent.sh"
    script.write_text("echo 'print(1)' > evil.py\necho hacked >> program.md\n"
                      "sed -i 's/max_iter=1000)/C=0.3, max_iter=1000)/; s/^HYPOTHESIS = .*/HYPOTHESIS = \"C=0.3\"/' train.py\n")
    proc = arctl("run", "demo", "--agent-command", f"bash {script}", "--agent-path", str(script), "--max-iters", "2",
                 cwd=ws)
    rows = assert_consistent(ws, engine)
    assert rows[1]["hypothesis"] == "C=0.3" and rows[1]["agent"] == "command"
    assert rows[1]["notes"] == "ignored changes to evil.py, program.md" and rows[1]["jail"] == "bwrap"
    assert "ignored changes" in proc.stdout
    assert not (ws / "evil.py").exists() and "hacked" not in (ws / "program.md").read_text()


def _start(ws):
    return subprocess.Popen([ARCTL, "run", "demo", "--max-iters", "12"], cwd=ws, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _in_flight(ws):
    p = ws / "runs" / "demo" / "pending.json"
    try:
        return json.loads(p.read_text()).get("commit") and json.loads(p.read_text())["iter"] >= 2
    except (OSError, ValueError):
        return False


def test_ctrl_c_finishes_the_current_iteration_then_stops(ws, engine):
    proc = _start(ws)
    _wait_for(lambda: _in_flight(ws))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rows = assert_consistent(ws, engine)
    assert rows[-1]["iter"] == 2  # the iteration in flight was finished and recorded
    assert stops(ws)[-1] == "interrupted by Ctrl-C"


def test_second_ctrl_c_abandons_the_iteration_cleanly(ws, engine):
    proc = _start(ws)
    _wait_for(lambda: _in_flight(ws))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    rows = assert_consistent(ws, engine)
    assert [r["iter"] for r in rows] == [0, 1]  # the abandoned iteration left no trace but its ref
    assert "abandoned" in stops(ws)[-1]


def test_init_refuses_to_overwrite(ws):
    proc = arctl("init", str(ws), cwd=ws.parent, check=False)
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr


def test_run_before_prepare_says_what_to_do(tmp_path):
    arctl("init", str(tmp_path / "w"), cwd=tmp_path)
    proc = arctl("run", "x", cwd=tmp_path / "w", check=False)
    assert proc.returncode == 2 and "arctl prepare" in proc.stderr


def test_eval_and_run_judge_a_file_under_the_same_budget(ws, engine):
    """[budget] in arctl.toml binds `arctl eval` as it binds `arctl run` (eval once used its own defaults)."""
    slow = (ws / "train.py").read_text().replace("def build_pipeline():", "def build_pipeline():\n    import time\n"
                                                "    time.sleep(30)")
    (ws / "train.py").write_text(slow)
    toml = ws / "arctl.toml"
    toml.write_text(toml.read_text().replace("deadline = 180.0", "deadline = 4.0"))
    repo = git.Repo(ws)
    repo.index.add(["train.py", "arctl.toml"])
    repo.index.commit("a slow baseline and a tight budget")
    evaluated = arctl("eval", "train.py", "--json", cwd=ws, check=False)
    assert evaluated.returncode == 1 and json.loads(evaluated.stdout)["verdict"] == "timeout"
    ran = arctl("run", "demo", "--max-iters", "2", cwd=ws, check=False)
    assert ran.returncode == 2 and "did not evaluate cleanly (timeout" in ran.stderr
    assert ledger(ws)[0]["status"] == "TIMEOUT" and ledger(ws)[0]["verdict"] == "timeout"


def test_a_crash_shows_its_error_on_the_one_line_log(ws, engine, tmp_path):
    script = tmp_path / "agent.sh"
    script.write_text("cat > train.py <<'PY'\nHYPOTHESIS = \"treat region as a number\"\n"
                      "def build_pipeline():\n    raise ValueError(\"could not convert string to float: 'north'\")\nPY\n")
    proc = arctl("run", "demo", "--agent-command", f"bash {script}", "--agent-path", str(script), "--max-iters", "2",
                 cwd=ws)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("iter 1"))
    assert "CRASHED" in line and "ValueError: could not convert string to float: 'north'" in line


def test_an_unjailed_agent_is_recorded_in_every_row(ws, engine, tmp_path):
    script = tmp_path / "agent.sh"  # not allowlisted: only an unjailed agent can run it
    script.write_text("sed -i 's/max_iter=1000)/C=0.4, max_iter=1000)/' train.py\n")
    proc = arctl("run", "demo", "--agent-command", f"bash {script}", "--unjailed-agent", "--max-iters", "3", cwd=ws)
    assert "runs unjailed" in proc.stderr
    rows = ledger(ws)
    assert all(r["jail"].startswith("none (--unjailed-agent") for r in rows[1:]) and len(rows) == 3


def test_the_slash_command_runs_claude_code_headless_and_jailed(ws, engine, tmp_path):
    """/autoresearch's own command line, with a stand-in `claude` that behaves like `claude -p` on train.py."""
    slash = (ws / ".claude" / "commands" / "autoresearch.md").read_text()
    assert "$ARGUMENTS" in slash and "--permission-mode acceptEdits" in slash
    line = next(x for x in slash.splitlines() if x.startswith("arctl run $ARGUMENTS"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen"
    seen.mkdir()
    fake = bin_dir / "claude"  # records its arguments and environment, then edits train.py as told
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {seen}/argv\nenv > {seen}/env\nls -a ~ > {seen}/home\n"
                    "sed -i 's/max_iter=1000)/C=0.6, max_iter=1000)/; "
                    "s/^HYPOTHESIS = .*/HYPOTHESIS = \"C=0.6 from claude -p\"/' train.py\n")
    fake.chmod(0o755)
    args = shlex.split(line.replace("$ARGUMENTS", "demo --max-iters 2"))
    assert args[:3] == ["arctl", "run", "demo"]
    arctl(*args[1:], "--agent-path", str(bin_dir), "--agent-path", f"{seen}:rw", cwd=ws,
          env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "ANTHROPIC_API_KEY": "sk-for-claude", "ARCTL_CANARY": "c-9"})
    rows = assert_consistent(ws, engine)
    assert rows[1]["hypothesis"] == "C=0.6 from claude -p" and rows[1]["jail"] == "bwrap"
    argv = (seen / "argv").read_text().splitlines()
    assert argv[0] == "-p" and "--permission-mode" in argv and "acceptEdits" in argv
    env = (seen / "env").read_text()
    assert "ANTHROPIC_API_KEY=sk-for-claude" in env and "ARCTL_CANARY" not in env and "ARCTL_HOME" not in env
    assert "--agent-safe-log" in args
