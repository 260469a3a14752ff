"""Live progress: what a run writes to runs/NAME/progress.json and what a watcher shows from it."""

from __future__ import annotations

import io
import json
import threading
import time

from rich.console import Console

from arctl import progress
from arctl.ledger import Row, Status


def test_tracker_follows_agent_folds_and_best(tmp_path):
    t = progress.Tracker(tmp_path, "night", folds=5, metric="val_auc")
    state = progress.read(tmp_path, "night")
    assert (state["iter"], state["phase"], state["best"]) == (0, "evaluating", None)
    t.row(Row(iter=0, status=Status.BASELINE, val=0.9), "iter 0 | baseline")
    state = progress.read(tmp_path, "night")
    assert (state["iter"], state["phase"], state["best"]) == (1, "agent", {"iter": 0, "val": 0.9})
    assert "agent thinking" in progress.describe(state).plain
    t.job("handed", "fold0", {"engine": "local"})
    for k in range(3):
        t.job("done", f"fold{k}", {"verdict": "ok"})
    t.job("done", "test", {"verdict": "ok"})  # the sealed test job is not a fold
    line = progress.describe(progress.read(tmp_path, "night")).plain
    assert "iter 1 · evaluating · folds 3/5" in line and "best val_auc 0.9000 (iter 0)" in line
    t.row(Row(iter=1, status=Status.DISCARDED, val=0.95), "iter 1 | discarded")
    assert progress.read(tmp_path, "night")["best"]["iter"] == 0  # a discarded candidate is not the best
    t.stopped("max iterations")
    assert "stopped: max iterations" in progress.describe(progress.read(tmp_path, "night")).plain


def test_untrusted_text_is_cleaned(tmp_path):
    state = {"name": "x\x1b[2Jy", "phase": "stopped", "stopped": "boom\x1b]0;title\x07", "since": time.time()}
    assert "\x1b" not in progress.describe(state).plain


def test_watch_without_a_terminal_prints_plain_lines_until_the_run_stops(tmp_path):
    t = progress.Tracker(tmp_path, "night", folds=2, metric="val_auc")
    rows: list[str] = []
    out = io.StringIO()

    def run():
        time.sleep(0.3)
        rows.append("iter 0 | val_auc=0.9 | BASELINE")
        t.row(Row(iter=0, status=Status.BASELINE, val=0.9), rows[-1])
        time.sleep(0.3)
        t.job("handed", "fold0", {})
        t.job("done", "fold0", {})
        time.sleep(0.3)
        t.stopped("done")

    threading.Thread(target=run).start()
    progress.watch(tmp_path, "night", Console(file=out, width=200), lambda ws, n: list(rows), interval=0.05)
    text = out.getvalue()
    assert "\x1b" not in text  # no terminal: no live drawing
    lines = text.splitlines()
    assert "iter 0 | val_auc=0.9 | BASELINE" in lines
    assert any("agent thinking" in line for line in lines)
    assert any("folds 1/2" in line for line in lines)
    assert "stopped: done" in lines[-1]
    assert len(lines) < 10  # one line per change, not one per poll
    assert json.loads((tmp_path / "runs" / "night" / "progress.json").read_text())["phase"] == "stopped"


def test_in_a_terminal_the_live_line_is_drawn_and_the_log_stays(tmp_path):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, highlight=False)
    t = progress.Tracker(tmp_path, "night", folds=5, metric="val_auc")
    with progress.LiveLine(console, t):
        console.print("iter 0 | val_auc=0.9 | BASELINE")
        t.row(Row(iter=0, status=Status.BASELINE, val=0.9), "iter 0")
        time.sleep(0.8)
    text = out.getvalue()
    assert "iter 0 | val_auc=0.9 | BASELINE" in text
    assert "agent thinking" in text and "\x1b[" in text  # redrawn with cursor moves
    plain = io.StringIO()
    with progress.LiveLine(Console(file=plain), t):  # not a terminal: nothing drawn
        time.sleep(0.6)
    assert plain.getvalue() == ""


def test_each_candidate_in_flight_has_its_own_phase_clock_and_folds(tmp_path):
    """With --workers, job events carry their candidate's source key and count for that candidate only."""
    t = progress.Tracker(tmp_path, "night", folds=5, metric="val_auc")
    t.row(Row(iter=0, status=Status.BASELINE, val=0.9), "iter 0 | baseline")
    t.flying({1: "", 2: ""})  # two agents thinking
    first_since = progress.read(tmp_path, "night")["candidates"]["1"]["since"]
    t.flying({1: "aaaa", 2: ""})  # 1 is being evaluated
    state = progress.read(tmp_path, "night")
    assert state["candidates"]["1"]["phase"] == "evaluating" and state["candidates"]["1"]["since"] >= first_since
    t.job("handed", "fold0", {"engine": "local", "source": "aaaa"})
    t.job("done", "fold0", {"verdict": "ok", "source": "aaaa"})
    t.job("done", "fold1", {"verdict": "ok", "source": "aaaa"})
    t.job("done", "fold0", {"verdict": "ok", "source": "bbbb"})  # no candidate of that source: not counted anywhere
    t.flying({1: "aaaa", 2: "", 3: ""})  # a third launched; 1 and 2 keep their state
    state = progress.read(tmp_path, "night")
    assert state["candidates"]["1"]["folds_done"] == 2 and state["candidates"]["2"]["phase"] == "agent"
    assert state["folds_done"] == 0  # the single-candidate count is left alone
    line = progress.describe(state).plain
    assert "3 in flight" in line and "#1 folds 2/5" in line and "#2 agent" in line and "#3 agent" in line
    assert "best val_auc 0.9000 (iter 0)" in line
    t.flying({2: "", 3: ""})  # 1 recorded
    assert set(progress.read(tmp_path, "night")["candidates"]) == {"2", "3"}
    t.flying({})
    assert "agent thinking" in progress.describe(progress.read(tmp_path, "night")).plain  # back to one line
