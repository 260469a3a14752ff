"""The ratchet loop, owned by the host: the agent proposes, the host commits, evaluates, keeps or resets.

Crash safety rests on three facts, checked on every start:
- the ledger holds every recorded iteration (fsynced before the next step);
- runs/NAME/pending.json names the iteration in flight and its commit, if any;
- the branch tip is the last kept commit, or that in-flight commit.
A commit in flight is evaluated again and recorded; anything else unknown is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable

import git

from arctl import acceptance, checks, evaluate
from arctl.agents import Agent, AgentError, Context, Exhausted, Proposal
from arctl.config import Config
from arctl.errors import ArctlError
from arctl.ledger import Ledger
from arctl.prepare import PreparedTask
from arctl.sandbox import runner
from arctl.sandbox.policy import Limits, MiB
from arctl.taskcard import task_card
from arctl.workspace import ACTOR

BRANCH_PREFIX = "autoresearch/"
TRIPWIRE_METRICS = {"roc_auc"}  # bounded metrics where a near-perfect validation score means a leak
MAX_AGENT_FAILURES = 3


def notes_ref(name: str) -> str:
    """refs/notes/arctl/NAME: one note per evaluated commit of run NAME (a commit may serve several runs)."""
    return f"arctl/{name}"


@dataclasses.dataclass
class StopRules:
    max_iters: int | None = None  # total iterations in the run's ledger, baseline included
    max_time: float | None = None  # seconds in this invocation
    max_cost: float | None = None  # US dollars of agent spend over the whole run
    target: float | None = None  # stop once the best validation metric reaches this
    patience: int | None = None  # stop after this many iterations without a keep


def run_dir(workspace: Path, name: str) -> Path:
    return workspace / "runs" / name


class Ratchet:
    def __init__(self, workspace: Path, name: str, agent: Agent, cfg: Config, rules: StopRules,
                 task: PreparedTask, image: str, echo: Callable[[str], None] = print, engine=None):
        self.workspace, self.name, self.agent, self.cfg, self.rules = workspace, name, agent, cfg, rules
        self.task, self.image, self.echo = task, image, echo
        self.engine = engine or runner.client()
        self.repo = git.Repo(workspace)
        self.branch = BRANCH_PREFIX + name
        self.dir = run_dir(workspace, name)
        self.ledger = Ledger(self.dir)
        self.pending_path = self.dir / "pending.json"
        self.meta_path = self.dir / "run.json"
        self.limits = Limits(deadline=cfg.deadline, memory=cfg.memory_mib * MiB, cpus_per_job=cfg.cpus_per_job)
        self.stop_requested = ""
        self._card: str | None = None
        self.started = time.monotonic()
        self.metric_label = "val_" + {"roc_auc": "auc"}.get(task.spec.metric, task.spec.metric)

    # ---- git -------------------------------------------------------------------------------
    def _checkout_branch(self) -> None:
        names = [h.name for h in self.repo.heads]
        if self.branch in names:
            self.repo.heads[self.branch].checkout(force=False)
            return
        if self.repo.is_dirty(untracked_files=False):
            raise ArctlError("the workspace has uncommitted changes to tracked files; commit or stash them first")
        self.repo.create_head(self.branch).checkout()

    def _head(self) -> str:
        return self.repo.head.commit.hexsha

    def _commit(self, source: str, message: str) -> str:
        (self.workspace / "train.py").write_text(source)
        self.repo.index.add(["train.py"])
        return self.repo.index.commit(message, author=ACTOR, committer=ACTOR).hexsha

    def _reset(self, commit: str) -> None:
        self.repo.git.reset("--hard", commit)

    def _keep_reachable(self, iteration: int, commit: str) -> None:
        self.repo.git.update_ref(f"refs/arctl/{self.name}/iter-{iteration}", commit)

    # ---- state files ----------------------------------------------------------------------
    def _write_json(self, path: Path, data: dict) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _meta(self) -> dict:
        return json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}

    def _record_stop(self, reason: str) -> None:
        meta = self._meta()
        meta.setdefault("stops", []).append({"time": time.time(), "reason": reason})
        self._write_json(self.meta_path, meta)

    # ---- recovery ---------------------------------------------------------------------------
    def _recover(self) -> None:
        pending = json.loads(self.pending_path.read_text()) if self.pending_path.exists() else None
        best = self.ledger.best()
        head = self._head()
        if self.repo.is_dirty(untracked_files=False):
            self.echo("recovery: discarding an uncommitted train.py left by an interrupted iteration")
            self._reset("HEAD")
        if best is None:
            if pending and pending.get("commit") == head:
                raise ArctlError("the run's branch carries a candidate but has no baseline; delete the branch to start over")
            self.pending_path.unlink(missing_ok=True)
            return
        if head == best["commit"]:
            self.pending_path.unlink(missing_ok=True)
            return
        recorded = {r.get("commit") for r in self.ledger.rows}
        if head in recorded:
            self.echo(f"recovery: resetting the discarded commit {head[:10]} to the best {best['commit'][:10]}")
            self._reset(best["commit"])
            self.pending_path.unlink(missing_ok=True)
            return
        if pending and pending.get("commit") == head and pending["iter"] == self.ledger.next_iter:
            self.echo(f"recovery: iteration {pending['iter']} ({head[:10]}) was committed but not recorded; "
                      "evaluating it again")
            source = self.repo.head.commit.tree["train.py"].data_stream.read().decode()
            proposal = Proposal(hypothesis=pending.get("hypothesis", ""), train_py=source,
                                notes="recovered after an interruption")
            self._evaluate_and_record(pending["iter"], proposal, head, agent_seconds=0.0, started=time.monotonic())
            return
        raise ArctlError(
            f"the tip of {self.branch} ({head[:10]}) is not a commit this run made; arctl will not guess. "
            f"Reset it to the last kept commit with `git reset --hard {best['commit'][:10]}` and run again.")

    # ---- the loop ---------------------------------------------------------------------------
    def run(self) -> str:
        self._checkout_branch()
        meta = self._meta()
        meta.update({"name": self.name, "branch": self.branch, "task": self.task.spec.name,
                     "task_key": self.task.key, "metric": self.task.spec.metric,
                     "greater_is_better": self.task.spec.greater_is_better,
                     "accept": {"rule": self.cfg.rule, "z": self.cfg.z, "min_delta": self.cfg.min_delta}})
        meta.setdefault("created", time.time())
        self._write_json(self.meta_path, meta)
        previous = signal.signal(signal.SIGINT, self._on_sigint) if threading.current_thread() is threading.main_thread() else None
        try:
            self._recover()
            if not self.ledger.rows:
                self._baseline()
            reason = self._loop()
        except KeyboardInterrupt:
            reason = "abandoned by a second Ctrl-C during an iteration"
            runner.remove_own(self.engine)
            best = self.ledger.best()
            if best:
                self._reset(best["commit"])
            self.pending_path.unlink(missing_ok=True)
        finally:
            runner.remove_own(self.engine)  # nothing of this run may outlive it
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        self._record_stop(reason)
        self.echo(f"stopped: {reason}")
        return reason

    def _on_sigint(self, signum, frame):
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = "interrupted by Ctrl-C"
        self.echo("Ctrl-C: finishing the current iteration, then stopping (press again to abandon it)")

    def _baseline(self) -> None:
        head = self._head()
        source = (self.workspace / "train.py").read_text()
        self._write_json(self.pending_path, {"iter": 0, "commit": head, "hypothesis": "baseline"})
        proposal = Proposal(hypothesis=checks.hypothesis(source.encode()) or "baseline", train_py=source)
        row = self._evaluate_and_record(0, proposal, head, agent_seconds=0.0, started=time.monotonic())
        if row["status"] != "BASELINE":
            raise ArctlError(f"the baseline train.py did not evaluate cleanly ({row['verdict']}: {row['reason']}); "
                             "fix it on the starting branch, delete the run branch and start again")

    def _stop_reason(self) -> str:
        rules, rows = self.rules, self.ledger.rows
        best = self.ledger.best()
        if self.stop_requested:
            return self.stop_requested
        if rules.max_iters is not None and len(rows) >= rules.max_iters:
            return f"reached --max-iters {rules.max_iters}"
        if rules.max_time is not None and time.monotonic() - self.started >= rules.max_time:
            return f"reached --max-time {rules.max_time:g} s"
        spent = sum(r.get("cost_usd", 0.0) for r in rows)
        if rules.max_cost is not None and spent >= rules.max_cost:
            return f"reached --max-cost ${rules.max_cost:g} (spent ${spent:.4f})"
        if rules.target is not None and best and best.get("val") is not None and self._better_or_equal(best["val"], rules.target):
            return f"reached --target {rules.target:g} ({self.task.spec.metric} {best['val']:.4f})"
        if rules.patience is not None:
            since = [r for r in rows if r["iter"] > (best["iter"] if best else 0)]
            if len(since) >= rules.patience:
                return f"no candidate kept in the last {rules.patience} iterations (--patience)"
        recent = rows[-MAX_AGENT_FAILURES:]
        if len(recent) == MAX_AGENT_FAILURES and all(r["status"] == "AGENT_ERROR" for r in recent):
            return f"the agent failed {MAX_AGENT_FAILURES} times in a row: {recent[-1]['reason']}"
        tripped = [r for r in rows if r["status"] == "TRIPWIRE"]
        if tripped:
            return (f"leakage tripwire: iteration {tripped[-1]['iter']} scored {self.task.spec.metric} "
                    f"{tripped[-1]['val']:.4f}, beyond what this task allows without a leak; "
                    f"inspect refs/arctl/{self.name}/iter-{tripped[-1]['iter']}")
        return ""

    def _better_or_equal(self, value: float, target: float) -> bool:
        return value >= target if self.task.spec.greater_is_better else value <= target

    def _loop(self) -> str:
        while not (reason := self._stop_reason()):
            self._iteration(self.ledger.next_iter)
        return reason

    def _context(self, iteration: int) -> Context:
        best = self.ledger.best()
        program = self.workspace / "program.md"
        if self._card is None:
            self._card = task_card(self.task, self.limits.deadline, self.cfg.memory_mib, self.cfg.cpus_per_job)
        history = [{k: r.get(k) for k in ("iter", "hypothesis", "status", "val", "delta", "margin", "reason",
                                          "stderr_tail")} for r in self.ledger.rows[-self.cfg.history:]]
        return Context(iteration=iteration, program=program.read_text() if program.exists() else "",
                       task_card=self._card, best_train_py=(self.workspace / "train.py").read_text(),
                       best_summary=f"iteration {best['iter']}, {self.task.spec.metric} {best['val']:.4f}",
                       history=history)

    def _iteration(self, iteration: int) -> None:
        started = time.monotonic()
        context = self._context(iteration)
        # The sandbox's containers start and warm up during the agent's turn; each still runs one job only.
        warming = runner.warm_up(self.engine, self.image, self.limits, self.task.spec.folds)
        consumed = False
        try:
            t0 = time.monotonic()
            try:
                proposal = self.agent.propose(context)
            except Exhausted as e:
                self.stop_requested = str(e)
                return
            except AgentError as e:
                spent = getattr(e, "proposal", None) or Proposal("", "")
                self._append(self._row(iteration, None, spent, status="AGENT_ERROR", verdict="agent_error",
                                       reason=str(e), agent_seconds=time.monotonic() - t0, started=started))
                return
            agent_seconds = time.monotonic() - t0
            proposal.hypothesis = (proposal.hypothesis or checks.hypothesis(proposal.train_py.encode())
                                   or "(no hypothesis)")
            problems = checks.static_problems(proposal.train_py.encode())
            if problems:
                self._append(self._row(iteration, None, proposal, status="REJECTED", verdict="rejected",
                                       reason="; ".join(problems), agent_seconds=agent_seconds, started=started))
                return
            self._write_json(self.pending_path, {"iter": iteration, "commit": None, "hypothesis": proposal.hypothesis})
            _fault("before_commit", iteration)
            commit = self._commit(proposal.train_py,
                                  f"{proposal.hypothesis}\n\narctl run {self.name}, iteration {iteration}")
            self._write_json(self.pending_path, {"iter": iteration, "commit": commit, "hypothesis": proposal.hypothesis})
            _fault("after_commit", iteration)
            consumed = True  # the evaluation uses the slots up, whatever happens to it
            self._evaluate_and_record(iteration, proposal, commit, agent_seconds, started, warming)
        finally:
            if not consumed:
                runner.discard(self.engine, self.image, _ready(warming))

    def _evaluate_and_record(self, iteration: int, proposal: Proposal, commit: str, agent_seconds: float,
                             started: float, warming=None) -> dict:
        self._keep_reachable(iteration, commit)
        _fault("during_eval", iteration, delay=2.0)
        t0 = time.monotonic()
        warm = _ready(warming) if warming is not None else None  # sandbox time when the agent was quicker
        result = evaluate.evaluate(proposal.train_py.encode(), self.task, self.image, self.limits, engine=self.engine,
                                   warm=warm)
        eval_seconds = time.monotonic() - t0
        _fault("after_eval", iteration)
        best = self.ledger.best()
        decision = None
        if iteration == 0:
            status = "BASELINE" if result.verdict == "ok" else result.verdict.upper()
        elif result.verdict != "ok":
            status = result.verdict.upper()
        else:
            decision = acceptance.decide(result.fold_scores, best["folds"], self.task.spec.greater_is_better,
                                         self.cfg.rule, self.cfg.z, self.cfg.min_delta)
            status = "KEPT" if decision.keep else "DISCARDED"
            # A jump to near-perfect is suspicious; a task whose baseline is already there is just easy.
            baseline = self.ledger.rows[0]["val"]
            if (self.cfg.tripwire is not None and self.task.spec.metric in TRIPWIRE_METRICS
                    and result.mean >= self.cfg.tripwire > baseline):
                status = "TRIPWIRE"
        row = self._row(iteration, commit, proposal, status=status, verdict=result.verdict, reason=result.reason,
                        agent_seconds=agent_seconds, started=started, result=result, decision=decision,
                        eval_seconds=eval_seconds)
        self._append(row)
        self._note(row)
        if status not in ("KEPT", "BASELINE") and best is not None:
            self._reset(best["commit"])
        self.pending_path.unlink(missing_ok=True)
        return row

    def _row(self, iteration, commit, proposal: Proposal, *, status, verdict, reason, agent_seconds, started,
             result: evaluate.Evaluation | None = None, decision: acceptance.Decision | None = None,
             eval_seconds: float = 0.0) -> dict:
        total = time.monotonic() - started
        return {
            "iter": iteration, "time": time.time(), "commit": commit, "status": status, "verdict": verdict,
            "hypothesis": proposal.hypothesis, "reason": reason,
            "val": result.mean if result else None, "folds": result.fold_scores if result else {},
            "delta": decision.delta if decision else None, "spread": decision.spread if decision else None,
            "margin": decision.margin if decision else None, "rule": self.cfg.rule,
            "stderr_tail": result.stderr_tail[-2000:] if result and verdict != "ok" else "",
            "jobs": result.jobs if result else {},
            "seconds": total, "agent_seconds": agent_seconds, "eval_seconds": eval_seconds,
            "controller_seconds": max(0.0, total - agent_seconds - eval_seconds),
            "agent": self.agent.name, "notes": proposal.notes,
            "tokens": {"input": proposal.input_tokens, "output": proposal.output_tokens,
                       "cache_read": proposal.cache_read_tokens, "cache_write": proposal.cache_write_tokens},
            "cost_usd": proposal.cost_usd,
            "image_id": result.image_id if result else "", "harness_sha256": result.harness_sha256 if result else "",
            "task_key": self.task.key, "candidate_sha256": result.candidate_sha256 if result else "",
            "data_sha256": result.data_sha256 if result else "", "libraries": result.libraries if result else {},
        }

    def _note(self, row: dict) -> None:
        """The row as a git note on its commit, so a clone of the repository can verify it (arctl verify)."""
        keys = ("iter", "status", "val", "folds", "rule", "margin", "image_id", "harness_sha256", "task_key",
                "data_sha256", "libraries", "candidate_sha256", "hypothesis")
        note = json.dumps({"run": self.name, **{k: row.get(k) for k in keys}}, sort_keys=True)
        self.repo.git.notes("--ref", notes_ref(self.name), "add", "-f", "-m", note, row["commit"])

    def _append(self, row: dict) -> None:
        self.ledger.append(row)
        self.echo(status_line(row, self.metric_label))


def status_line(row: dict, metric_label: str) -> str:
    val = f"{metric_label}={row['val']:.4f}" if row.get("val") is not None else f"{metric_label}=  -   "
    delta = f" (Δ {row['delta']:+.4f} ± {row['spread']:.4f})" if row.get("delta") is not None else ""
    mark = {"KEPT": "+", "BASELINE": "=", "DISCARDED": "-"}.get(row["status"], "!")
    line = f"iter {row['iter']} | {val}{delta} | {row['status']:<10}| {mark} {row['hypothesis']}"
    if row["status"] not in ("KEPT", "BASELINE", "DISCARDED") and row.get("reason"):
        line += f"  [{row['reason'][:120]}]"
    if row.get("notes", "").startswith("ignored"):
        line += f"  ({row['notes']})"
    return line


def _ready(future) -> list:
    """The slots of a warm-up that is no longer wanted (waiting for it to finish starting them)."""
    try:
        return future.result(timeout=60)
    except Exception:  # a failed warm-up left nothing to clean; the janitor has the rest
        return []


def _fault(point: str, iteration: int, delay: float = 0.0) -> None:
    """Fault injection for the crash-safety tests: ARCTL_FAULT=point:iteration kills this process there."""
    spec = os.environ.get("ARCTL_FAULT", "")
    if spec != f"{point}:{iteration}":
        return
    if delay:
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    else:
        os.kill(os.getpid(), signal.SIGKILL)

