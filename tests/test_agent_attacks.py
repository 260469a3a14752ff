"""Attacks on the jail of command agents and on the host's handling of what they leave: real bwrap, real files."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from test_agents import context

from arctl import display, untrusted
from arctl.agents import AgentError
from arctl.agents.command import CommandAgent
from arctl.ledger import Row, Status

SECRET = "label-0-1-1-0-secret"


def steal(path: str) -> str:
    """An agent command that puts what it read at path (or "refused") into the HYPOTHESIS line of train.py."""
    return (f"if f=$(head -c 30 '{path}' 2>/dev/null); then f=$(printf %s \"$f\" | tr -dc 'a-zA-Z0-9.,-'); "
            "else f=refused; fi; sed -i \"s/^HYPOTHESIS = .*/HYPOTHESIS = 'found $f'/\" train.py")


def test_a_symlinked_allowlisted_path_does_not_show_the_workspace_behind_it(tmp_path):
    """`--agent-path ~/work` where ~/work is a link to the disk holding the workspace: the jail covered the
    workspace at its real path only, and the agent read the ledger through the link."""
    real = tmp_path / "disk"
    workspace = real / "research"
    (workspace / "runs" / "r1").mkdir(parents=True)
    (workspace / "runs" / "r1" / "ledger.jsonl").write_text(SECRET)
    link = tmp_path / "work"
    link.symlink_to(real)
    agent = CommandAgent(steal(f"{link}/research/runs/r1/ledger.jsonl"), timeout=30, paths=(str(link),),
                         hidden=(workspace,))
    assert agent.propose(context()).hypothesis == "found refused"
    unjailed = CommandAgent(steal(f"{link}/research/runs/r1/ledger.jsonl"), timeout=30, jailed=False)
    assert unjailed.propose(context()).hypothesis == f"found {SECRET}"  # the file is there to be read


def test_a_data_file_named_through_a_link_is_hidden_where_it_really_is(tmp_path):
    """The data file was hidden by covering the directory of the link, not of the file it points to."""
    shared = tmp_path / "shared"
    (shared / "datasets").mkdir(parents=True)
    (shared / "datasets" / "heart.csv").write_text(SECRET)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "heart.csv").symlink_to(shared / "datasets" / "heart.csv")
    agent = CommandAgent(steal(f"{shared}/datasets/heart.csv"), timeout=30, paths=(str(shared),),
                         hidden=(mine / "heart.csv",))
    assert agent.propose(context()).hypothesis == "found refused"


def test_a_file_name_that_is_not_utf8_does_not_crash_the_run_output(tmp_path):
    """A file named b'bad\\xffname' in the scratch directory reached `arctl run`'s line as a lone surrogate,
    and a strict UTF-8 stdout (LANG=en_US.UTF-8) raised UnicodeEncodeError: the run stopped."""
    cmd = ("printf x > \"$(printf 'bad\\377name')\"; "
           "sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py")
    proposal = CommandAgent(cmd, timeout=30).propose(context())
    assert "bad" in proposal.notes
    row = Row(iter=1, status=Status.DISCARDED, hypothesis=proposal.hypothesis, notes=proposal.notes, val=0.8)
    untrusted.cap_row(row)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    Console(file=stdout, highlight=False, soft_wrap=True).print(Text(display.status_line(row, "val_auc")))
    stdout.flush()
    assert b"badname" in stdout.buffer.getvalue()
    assert untrusted.clean("a\udcffb\ud800") == "ab"


def test_a_scratch_tree_thousands_of_directories_deep_is_an_agent_error_or_ignored():
    """1200 nested directories made the snapshot raise RecursionError (not AgentError: the run stopped) and
    left the scratch directory on the host's disk."""
    before = set(Path("/tmp").glob("arctl-agent-*"))
    cmd = ("sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py; "
           "i=0; while [ $i -lt 1200 ]; do mkdir d && cd d || exit 3; i=$((i+1)); done; echo x > deep.txt")
    try:
        proposal = CommandAgent(cmd, timeout=120).propose(context())
        assert "deep.txt" in proposal.notes
    except AgentError:
        pass
    assert set(Path("/tmp").glob("arctl-agent-*")) <= before


def test_a_tree_deeper_than_path_max_is_an_agent_error_and_is_removed():
    before = set(Path("/tmp").glob("arctl-agent-*"))
    cmd = ("sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py; python3 -c \"import os\n"
           "for _ in range(40): os.mkdir('d' * 200); os.chdir('d' * 200)\nopen('deep.txt', 'w').write('x')\"")
    with pytest.raises(AgentError, match="cannot read"):
        CommandAgent(cmd, timeout=120).propose(context())
    assert set(Path("/tmp").glob("arctl-agent-*")) <= before


def _slash_command_paths() -> tuple[str, ...]:
    from arctl.artifact import ROOT

    line = next(x for x in (ROOT / "claude" / "autoresearch.md").read_text().splitlines()
                if x.startswith("arctl run $ARGUMENTS"))
    args = shlex.split(line)
    return tuple(args[i + 1] for i, a in enumerate(args) if a == "--agent-path")


def test_the_slash_commands_jailed_claude_cannot_plant_hooks_or_read_transcripts(tmp_path, monkeypatch):
    """/autoresearch allowlisted ~/.claude and ~/.claude.json read-write. There the jailed agent read the
    transcripts of the unjailed Claude Code session that ran `arctl run` (its output and `arctl status`), and
    wrote a hook into ~/.claude/settings.json that the next unjailed `claude` runs with the user's rights."""
    home = tmp_path / "home"
    (home / ".claude" / "projects" / "-research").mkdir(parents=True)
    (home / ".claude" / "projects" / "-research" / "session.jsonl").write_text(SECRET)  # a recorded tool result
    (home / ".claude" / "settings.json").write_text("{}")
    (home / ".claude" / ".credentials.json").write_text('{"claudeAiOauth": "tok"}')
    (home / ".claude.json").write_text("{}")
    monkeypatch.setenv("HOME", str(home))
    hook = '{"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "cat ~/.arctl-labels"}]}]}}'
    cmd = (f"echo '{hook}' > ~/.claude/settings.json; echo '{{\"mcpServers\": 1}}' > ~/.claude.json; "
           "t=$(cat ~/.claude/projects/*/*.jsonl 2>/dev/null || echo refused); "
           "c=$(cat ~/.claude/.credentials.json 2>/dev/null | head -c 15 || echo none); "
           "sed -i \"s/^HYPOTHESIS = .*/HYPOTHESIS = 'found $t login $c'/\" train.py")
    paths = _slash_command_paths()
    assert paths, "the slash command allowlists nothing: then how does claude -p log in?"
    proposal = CommandAgent(cmd, timeout=30, paths=paths).propose(context())
    assert (home / ".claude" / "settings.json").read_text() == "{}"
    assert (home / ".claude.json").read_text() == "{}"
    assert proposal.hypothesis.startswith("found refused login {")  # it can still log in


@pytest.mark.docker
@pytest.mark.xfail(strict=True, reason="open: the smoke job runs after the real jobs, so its clock carries how long "
                   "they took, which the candidate chose from the labels (docs/threat-model.md, 'Still open')")
def test_the_smoke_jobs_stderr_carries_no_clock_of_the_real_jobs(tmp_path, heart_task, image, engine):
    """A jailed agent writes its clock into train.py; the smoke job prints the time since then, which the real fold0
    job made 100 s longer because one of its training labels is 1. (The agent's only writable path is where this
    test reads history.md; it could use none.)"""
    import re

    import pandas as pd

    from conftest import CANDIDATES, HEART_DATA, candidate
    from test_cli import arctl

    ws = tmp_path / "research"
    arctl("init", str(ws), cwd=tmp_path)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=ws)
    y = pd.read_csv(heart_task.job_dir("fold0") / "train.csv")["__target__"].astype(int)
    clock = tmp_path / "clock.py"
    clock.write_bytes(candidate("smoke_clock.py", K=None).replace(b"K = None", f"K = {int(y.to_numpy().argmax())}".encode()))
    assert CANDIDATES.joinpath("smoke_clock.py").exists() and int(y.max()) == 1
    capture = tmp_path / "seen"
    capture.mkdir()
    agent = (f"if grep -q CLOCK history.md; then cp history.md {capture}/; "
             "sed -i 's/max_iter=1000)/C=0.3, max_iter=1000)/' train.py; "
             f"else cp {clock} train.py; sed -i \"s/^T0 = None/T0 = $(date +%s.%N)/\" train.py; fi")
    arctl("run", "demo", "--agent-command", agent, "--agent-path", str(clock), "--agent-path", f"{capture}:rw",
          "--max-iters", "3", cwd=ws)
    seen = float(re.search(r"CLOCK ([0-9.]+)", (capture / "history.md").read_text()).group(1))
    print(f"the agent read: the smoke job ran {seen} s after it wrote train.py")
    assert seen < 100  # only fold0's sleep on a label of 1 makes it longer


@pytest.mark.docker
def test_a_hostile_hypothesis_reaches_git_clean_and_capped(tmp_path, heart_task, image, engine):
    """The hypothesis went into the commit message before it was cleaned: escapes (a terminal title, clear screen)
    and up to 64 KB of text on the run branch, printed raw by `git --no-pager log` or a CI log."""
    import subprocess

    from conftest import HEART_DATA
    from test_cli import arctl

    ws = tmp_path / "research"
    arctl("init", str(ws), cwd=tmp_path)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=ws)
    script = tmp_path / "agent.py"
    script.write_text("import re\ntext = open('train.py').read().replace('max_iter=1000)', 'C=0.3, max_iter=1000)')\n"
                      "hyp = repr('\\x1b]0;owned\\x07\\x1b[2Jcleared ' + 'x' * 20000)\n"
                      "open('train.py', 'w').write(re.sub('^HYPOTHESIS = .*$', lambda m: 'HYPOTHESIS = ' + hyp, text, "
                      "flags=re.M))\n")
    agent = f"python3 {script}"
    arctl("run", "demo", "--agent-command", agent, "--agent-path", str(script), "--max-iters", "2", cwd=ws)
    log = subprocess.run(["git", "log", "--all", "--format=%B"], cwd=ws, capture_output=True, check=True).stdout
    assert b"cleared" in log  # the hypothesis did reach git
    assert b"\x1b" not in log and b"\x07" not in log and len(log) < 5000


def test_the_smoke_jobs_labels_depend_on_no_label_of_fold0(tmp_path, heart_task, monkeypatch):
    """The smoke job held fold 0's training labels in a random order: their multiset (the count of each class; every
    target value of a regression) reached the agent through anything the candidate printed there. Flipping fold 0's
    labels, with the same randomness, must not change the smoke job's labels."""
    import dataclasses
    import secrets
    import shutil

    import pandas as pd

    from arctl import smoke
    from arctl.prepare import TARGET

    monkeypatch.setattr(secrets, "randbits", lambda k: 12345)
    seen = []
    for flip in (False, True):
        root = tmp_path / f"task{flip}"
        shutil.copytree(heart_task.root / "jobs", root / "jobs")
        if flip:
            train = pd.read_csv(root / "jobs" / "fold0" / "train.csv")
            train[TARGET] = 1 - train[TARGET]
            train.to_csv(root / "jobs" / "fold0" / "train.csv", index=False)
        task = dataclasses.replace(heart_task, root=root)
        seen.append(pd.read_csv(smoke.job_dir(task) / "train.csv")[TARGET].tolist())
    assert seen[0] == seen[1]
    assert sorted(set(seen[0])) == [0, 1]


def test_a_data_file_prepared_by_a_relative_path_is_hidden_from_any_directory(tmp_path, monkeypatch):
    """`arctl prepare --data ../datasets/heart.csv` recorded the path as given; `arctl run` from a subdirectory of the
    workspace then hid ws/datasets, not the file, and an agent allowed ~/datasets (say) read the data."""
    import shutil

    from arctl import clitools, prepare, tasks

    from conftest import HEART_DATA

    monkeypatch.setenv("ARCTL_HOME", str(tmp_path / "home"))  # a fresh store: this preparation is not a cache hit
    (tmp_path / "datasets").mkdir()
    shutil.copy(HEART_DATA, tmp_path / "datasets" / "heart.csv")
    (tmp_path / "ws" / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "ws")
    task = prepare.prepare(tasks.HEART, Path("../datasets/heart.csv"))
    monkeypatch.chdir(tmp_path / "ws" / "notebooks")  # arctl finds the workspace from any subdirectory
    agent = CommandAgent(steal(f"{tmp_path}/datasets/heart.csv"), timeout=30, paths=(str(tmp_path / "datasets"),),
                         hidden=clitools.data_paths(task))
    assert agent.propose(context()).hypothesis == "found refused"


def test_an_agent_printing_more_than_memory_does_not_grow_the_host(tmp_path):
    """All of the agent's output was collected before its last 2000 characters were kept: 600 MB printed made
    the host process peak at 2 GB (an agent has 900 s to print 100 GB)."""
    import subprocess
    import sys

    tests = Path(__file__).resolve().parent
    probe = (f"import resource, sys; sys.path.insert(0, {str(tests)!r})\n"
             "from test_agents import context\nfrom arctl.agents.command import CommandAgent\n"
             "p = CommandAgent(\"head -c 600M /dev/zero | tr '\\\\\\\\0' x; "
             "sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py\", timeout=120).propose(context())\n"
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, p.hypothesis)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True).stdout
    peak_mib = int(out.split()[0])
    print(f"peak RSS {peak_mib} MiB after the agent printed 600 MB")
    assert peak_mib < 500
