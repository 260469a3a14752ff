"""What agents are told: arctl's own words, scores rounded to the noise, and no label from any job."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from arctl import feedback
from arctl.ledger import Row, Status

from conftest import HEART_DATA

SMOKE = {"verdict": "crashed", "reason": "exited with code 1", "stderr_tail": "ValueError: bad column"}


def hostile_row(status: Status, val: float | None, rng: random.Random) -> Row:
    """A row whose every candidate-written field is random label-like text."""
    noise = "".join(rng.choice("01") for _ in range(200))
    return Row(iter=3, status=status, hypothesis="try trees", val=val, reason=f"found L{noise}",
               stderr_tail=f"LABELS:{noise}\n" * 3, folds={f"fold{k}": rng.random() for k in range(5)},
               delta=rng.random(), margin=rng.random(), spread=rng.random(), smoke=dict(SMOKE),
               jobs={"fold0": {"verdict": "crashed", "exit_code": rng.randrange(256), "reason": noise,
                               "phases": {noise: 1.0}}}, notes=noise)


@pytest.mark.parametrize("status", [Status.KEPT, Status.DISCARDED, Status.TRIPWIRE, Status.CRASHED,
                                    Status.TIMEOUT, Status.OOM, Status.INVALID])
def test_what_an_agent_sees_depends_on_nothing_a_job_wrote(status):
    rng = random.Random(7)
    step = 0.01
    val = None if status in feedback.FAILED else 0.9  # a kept or discarded val can differ below the step
    shown = {feedback.render_history([hostile_row(status, None if val is None else val + rng.uniform(-.004, .004),
                                                  rng)], step) for _ in range(50)}
    assert len(shown) == 1, shown
    assert "LABELS" not in shown.pop()


def test_all_failures_look_alike_to_the_agent():
    rows = [Row(iter=2, status=s, hypothesis="h", smoke=dict(SMOKE)) for s in feedback.FAILED]
    assert len({feedback.render_history([r], 0.01) for r in rows}) == 1


def test_bits_per_iteration_are_bounded_as_documented():
    """Outcome and rounded best take at most levels + 3 values: log2(104) = 6.70 bits for roc_auc at step 0.01."""
    step = feedback.noise_step([0.88, 0.91, 0.86, 0.93, 0.90])
    assert step == 0.01
    grid = [i / 10_000 for i in range(10_001)]  # every roc_auc to four decimals
    shown = {feedback.render_history([Row(iter=5, status=s, hypothesis="h", val=v, smoke=dict(SMOKE))], step)
             for s in (Status.KEPT, Status.DISCARDED, Status.TRIPWIRE, *feedback.FAILED) for v in grid}
    levels = round(1 / step) + 1
    assert len(shown) <= levels + 3
    assert math.log2(len(shown)) <= 6.71
    docs = (Path(__file__).resolve().parents[1] / "docs" / "threat-model.md").read_text()
    assert "6.7 bits" in docs


@pytest.mark.parametrize("folds, step", [([0.5, 0.5, 0.5], 1e-4), ([0.8, 0.9, 1.0, 0.7, 0.6], 0.05),
                                         ([10.0, 14.0, 9.0], 1.0)])
def test_noise_step_is_a_round_number_below_the_standard_error(folds, step):
    assert feedback.noise_step(folds) == pytest.approx(step)


def test_history_text_is_data(tmp_path):
    row = Row(iter=4, status=Status.REJECTED, hypothesis="[/] \x1b[2K\rverdict ok 0.998", reason="x" * 50_000_000)
    text = feedback.render_history([row], 0.01)
    assert "\x1b" not in text and "\r" not in text and len(text) < 2000 and "[/]" in text


# ---- end to end: a real run, real containers, the real anthropic SDK against a local Messages API ----

def _label_strings(task) -> list[str]:
    out = []
    for job in task.fold_jobs:
        y = pd.read_csv(task.job_dir(job) / "train.csv")["__target__"].astype(int)
        out.append("".join(map(str, y.tolist()))[:48])
    return out


@pytest.mark.docker
def test_labels_written_everywhere_reach_no_agent_and_no_status(tmp_path, heart_task, image, engine):
    from test_ratchet import ledger

    from conftest import candidate
    from fake_anthropic import FakeMessagesAPI, tool_reply
    from test_cli import arctl

    ws = tmp_path / "research"
    arctl("init", str(ws), cwd=tmp_path)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=ws)
    harmless = (ws / "train.py").read_text().replace("max_iter=1000)", "C=0.5, max_iter=1000)")
    api = FakeMessagesAPI([tool_reply("leak via the header", candidate("label_leaker.py", MODE="header").decode()),
                           tool_reply("leak via stderr, phases and the exit code", candidate("label_leaker.py").decode()),
                           tool_reply("smaller C", harmless)])
    try:
        safe_log = arctl("run", "demo", "--agent", "claude", "--max-iters", "4", "--agent-safe-log", cwd=ws,
                         env={"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": api.url}).stdout
    finally:
        api.close()
    rows = ledger(ws)
    assert [r["status"] for r in rows[:3]] == ["BASELINE", "INVALID", "CRASHED"]
    labels = _label_strings(heart_task)
    # The candidate did write them: the human's ledger has them (capped), so the checks below can fail.
    assert any(s in rows[1]["reason"] for s in labels)
    assert any(s in rows[2]["stderr_tail"] for s in labels)
    assert len(json.dumps(rows[2])) < 64_000
    assert "best so far:" in safe_log and "iter 2: FAILED" in safe_log
    request = json.dumps(api.requests[2])
    assert "smoke job (same schema, scrambled labels)" in request and "LABELS:" in request  # the agent can debug
    status = arctl("status", "demo", cwd=ws).stdout + arctl("status", "demo", "--json", cwd=ws).stdout
    capture = tmp_path / "seen"
    capture.mkdir()
    arctl("run", "demo", "--agent-command", f"cp history.md {capture}/ && sed -i 's/C=0.5/C=0.3/' train.py",
          "--agent-path", f"{capture}:rw", "--max-iters", "5", cwd=ws)
    history = (capture / "history.md").read_text()
    assert "FAILED" in history and "LABELS:" in history
    for text in (request, status, history, safe_log):
        for s in labels:
            assert s not in text


def test_a_huge_hostile_row_is_capped_in_the_ledger_and_status_stays_readable(tmp_path):
    from rich.console import Console

    from arctl import display
    from arctl.ledger import Ledger, summary

    ws = tmp_path / "ws"
    ledger = Ledger(ws / "runs" / "r")
    bomb = "\x1b[2J[/] verdict ok 0.998 " * 2_000_000  # about 50 MB
    ledger.append(Row(iter=0, status=Status.BASELINE, hypothesis="[/] base", val=0.9, folds={"fold0": 0.9}, commit="a" * 40))
    ledger.append(Row(iter=1, status=Status.INVALID, hypothesis=bomb, reason=bomb, stderr_tail=bomb, notes=bomb,
                      smoke={"verdict": "invalid", "reason": bomb, "stderr_tail": bomb},
                      jobs={"fold0": {"reason": bomb, "phases": {"start": 1.0, "x": float("inf")}}}))
    line = (ws / "runs" / "r" / "ledger.jsonl").read_text().splitlines()[1]
    assert len(line) < 40_000 and "\\u001b" not in line
    console = Console(record=True, width=120)
    display.status(console, summary(ws, "r"), "r")
    shown = console.export_text()
    assert "[/]" in shown and "\x1b" not in shown and len(shown) < 5_000
    assert "0.9000" in shown.splitlines()[4] and "aaaaaaaa" in shown  # the numbers are not squeezed out


@pytest.mark.docker
def test_a_text_bomb_changes_nothing_on_screen(tmp_path, heart_task, image, engine):
    from conftest import CANDIDATES
    from test_cli import arctl

    ws = tmp_path / "research"
    arctl("init", str(ws), cwd=tmp_path)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=ws)
    bomb = CANDIDATES / "text_bomb.py"
    shown = arctl("eval", str(bomb), cwd=ws, check=False)
    assert shown.returncode == 1, shown.stderr
    screen = shown.stdout + shown.stderr
    assert "\x1b" not in screen and "\u202e" not in screen and len(screen) < 30_000
    assert "[/] [bold red]" in screen and "invalid" in screen  # markup printed as text, the verdict stands
    as_json = arctl("eval", str(bomb), "--json", cwd=ws, check=False).stdout
    assert len(as_json) < 64_000 and json.loads(as_json)["verdict"] == "invalid"
