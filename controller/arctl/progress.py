"""Live progress of a run: what is happening now, for the terminal of `arctl run` and for
`arctl status NAME --watch` in another shell.

The run writes runs/NAME/progress.json atomically on every change (the iteration in flight, agent
thinking or folds done k/K, since when, the best so far); a watcher only reads it and the ledger.
Without a terminal nothing here draws: `arctl run` keeps its one plain line per iteration.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from arctl import durable
from arctl.display import one_line
from arctl.ledger import Row, run_dir

FILE = "progress.json"


class Tracker:
    """The state of a run in flight, written to progress.json on each change.

    Fed by the ratchet's rows (after one, the agent thinks about the next) and by the engine pool's
    job events (the first job handed means the candidate is being evaluated; each done is a fold)."""

    def __init__(self, workspace: Path, name: str, folds: int, metric: str, rows: list[Row] = ()):
        self.path = run_dir(workspace, name) / FILE
        self.lock = threading.Lock()
        kept = [r for r in rows if r.status.keeps]
        self.state = {"name": name, "pid": os.getpid(), "metric": metric, "iter": len(rows),
                      "phase": "agent" if rows else "evaluating", "since": time.time(), "folds": folds,
                      "folds_done": 0, "best": {"iter": kept[-1].iter, "val": kept[-1].val} if kept else None,
                      "last": "", "stopped": None, "updated": time.time(),
                      "candidates": {}}  # with --workers: each candidate in flight by its number
        self._write()

    def _write(self) -> None:
        self.state["updated"] = time.time()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            durable.write_json(self.path, self.state)
        except OSError:
            pass  # progress is a courtesy: never a reason for a run to fail

    def row(self, row: Row, line: str) -> None:
        with self.lock:
            s = self.state
            if row.status.keeps:
                s["best"] = {"iter": row.iter, "val": row.val}
            s.update(iter=row.iter + 1, phase="agent", since=time.time(), folds_done=0, last=line)
            self._write()

    def flying(self, candidates: dict[int, str]) -> None:
        """With --workers: the candidates in flight now, each with its source key (runner.source_key) once it is
        being evaluated, "" while its agent thinks. A candidate keeps its clock and fold count while its phase holds."""
        with self.lock:
            before = self.state["candidates"]
            now = {}
            for number, source in candidates.items():
                old = before.get(str(number))
                phase = "evaluating" if source else "agent"
                now[str(number)] = old if old and old["phase"] == phase else {
                    "phase": phase, "since": time.time(), "folds_done": 0, "source": source}
            if now != before:
                self.state["candidates"] = now
                self._write()

    def job(self, event: str, name: str, info: dict) -> None:
        with self.lock:
            s = self.state
            if s["candidates"]:  # several candidates in flight: the event is its candidate's, if any
                mine = [c for c in s["candidates"].values() if c["source"] and c["source"] == info.get("source")]
                if mine and event == "done" and name.startswith("fold"):
                    mine[0]["folds_done"] = min(s["folds"], mine[0]["folds_done"] + 1)
                    self._write()
                return
            if event == "handed" and s["phase"] != "evaluating":
                s.update(phase="evaluating", since=time.time(), folds_done=0)
            elif event == "done" and name.startswith("fold"):
                s["folds_done"] = min(s["folds"], s["folds_done"] + 1)
            else:
                return
            self._write()

    def stopped(self, reason: str) -> None:
        with self.lock:
            self.state.update(stopped=reason, phase="stopped", since=time.time())
            self._write()


def read(workspace: Path, name: str) -> dict | None:
    try:
        return json.loads((run_dir(workspace, name) / FILE).read_text())
    except (OSError, ValueError):
        return None


def describe(state: dict | None, now: float | None = None) -> Text:
    """One line: the iteration in flight, what it is doing and for how long, and the best so far."""
    if not state:
        return Text("no progress recorded yet", style="dim")
    now = now or time.time()
    elapsed = max(0.0, now - float(state.get("since", now)))
    text = Text()
    text.append(f"run {one_line(state.get('name'), 60)} · ", style="dim")
    phase = state.get("phase")
    flying = state.get("candidates") or {}
    if phase != "stopped" and flying:
        text.append(f"{len(flying)} in flight", style="bold")
        for number, c in sorted(flying.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)[:8]:
            took = max(0.0, now - float(c.get("since", now)))
            if c.get("phase") == "evaluating":
                text.append(f" · #{one_line(number, 8)} folds {c.get('folds_done')}/{state.get('folds')} {took:.0f} s",
                            style="bold cyan")
            else:
                text.append(f" · #{one_line(number, 8)} agent {took:.0f} s", style="bold yellow")
    elif phase == "stopped":
        text.append(f"stopped: {one_line(state.get('stopped'), 120)}", style="bold")
    elif phase == "agent":
        text.append(f"iter {state.get('iter')} · agent thinking · {elapsed:.0f} s", style="bold yellow")
    else:
        text.append(f"iter {state.get('iter')} · evaluating · folds {state.get('folds_done')}/{state.get('folds')}"
                    f" · {elapsed:.0f} s", style="bold cyan")
    best = state.get("best")
    if best and best.get("val") is not None:
        text.append(f" · best {state.get('metric')} {best['val']:.4f} (iter {best['iter']})", style="green")
    return text


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True


class Silent:
    """No progress to show (a Ratchet driven without a terminal or watcher, as in tests)."""

    def flying(self, candidates: dict[int, str]) -> None:
        pass


class LiveLine:
    """In a terminal, one redrawn line under the iteration log; elsewhere nothing at all."""

    def __init__(self, console: Console, tracker: Tracker, enabled: bool = True):
        self.console, self.tracker = console, tracker
        self.live = Live(console=console, refresh_per_second=2, transient=True,
                         get_renderable=lambda: describe(self.tracker.state)) if enabled and console.is_terminal else None

    def __enter__(self) -> LiveLine:
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.stop()


def watch(workspace: Path, name: str, console: Console, rows, interval: float = 1.0, until=None) -> None:
    """Follow a run from another shell until it stops (or Ctrl-C): a live line in a terminal, plain lines
    otherwise. rows(workspace, name) gives the status lines of the ledger so far; new ones are printed."""
    seen = 0
    last = ""
    with Live(console=console, refresh_per_second=2, transient=True) if console.is_terminal else _Nothing() as live:
        while True:
            lines = rows(workspace, name)
            for line in lines[seen:]:
                console.print(Text(line))
            seen = len(lines)
            state = read(workspace, name)
            now = describe(state)
            if live is not None:
                live.update(now)
            elif (key := re.sub(r" · \d+ s\b", "", now.plain)) != last:
                console.print(Text(now.plain))  # plain output: a line per change, not per second
                last = key
            if state and state.get("phase") == "stopped":
                return
            if state and not _alive(state.get("pid")):
                console.print(Text("the run's process is gone (it was stopped or killed); `arctl run "
                                   f"{one_line(name, 60)}` resumes it", style="red"))
                return
            if until and until():
                return
            time.sleep(interval)


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None
