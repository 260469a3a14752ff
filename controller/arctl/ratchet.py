"""The ratchet loop, owned by the host: the agent proposes, the host commits, evaluates, keeps or resets.

Crash safety rests on three facts, checked on every start:
- the ledger holds every recorded iteration (fsynced before the next step);
- runs/NAME/pending.json names the iteration in flight and its commit, if any;
- the branch tip is the last kept commit, or that in-flight commit.
A commit in flight is evaluated again and recorded (recovery.py); anything else unknown is refused.
With --workers N, several candidates are in flight on their own refs, never on the branch (inflight.py).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from arctl import acceptance, checks, durable, evaluate, feedback, inflight, recovery, repository, smoke, stopping, untrusted
from arctl import progress as live_progress
from arctl.agents import Agent, AgentError, Context, Exhausted, Proposal
from arctl.errors import ArctlError
from arctl.ledger import Ledger, Row, Status, run_dir
from arctl.prepare import PreparedTask
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import preread, runner
from arctl.settings import Settings
from arctl.taskcard import task_card

TRIPWIRE_METRICS = {"roc_auc"}  # bounded metrics where a near-perfect validation score means a leak


class Ratchet:
    def __init__(self, workspace: Path, name: str, agent: Agent, settings: Settings, rules: stopping.StopRules,
                 task: PreparedTask, image: str, echo: Callable[[Row], None] = print, engine=None,
                 say: Callable[[str], None] = print, progress=None):
        self.workspace, self.name, self.agent, self.settings, self.rules = workspace, name, agent, settings, rules
        self.task, self.image, self.echo, self.say = task, image, echo, say
        self.progress = progress or live_progress.Silent()  # with --workers: each candidate in flight
        self.engine = engine or docker_engine.client()
        self.repo = repository.open_repo(workspace)
        self.branch = repository.BRANCH_PREFIX + name
        self.dir = run_dir(workspace, name)
        self.ledger = Ledger(self.dir)
        self.pending_path = self.dir / "pending.json"
        self.meta_path = self.dir / "run.json"
        self.limits = settings.limits()
        self.stop_requested = ""
        self._card: str | None = None
        self.started = time.monotonic()

    # ---- git and state files ---------------------------------------------------------------------
    def _checkout_branch(self) -> None:
        if self.branch in [h.name for h in self.repo.heads]:
            self.repo.heads[self.branch].checkout(force=False)
            return
        if self.repo.is_dirty(untracked_files=False):
            raise ArctlError("the workspace has uncommitted changes to tracked files; commit or stash them first")
        self.repo.create_head(self.branch).checkout()

    def _head(self) -> str:
        return self.repo.head.commit.hexsha

    def _reset(self, commit: str) -> None:
        self.repo.git.reset("--hard", commit)

    def _meta(self) -> dict:
        return json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}

    def _record_stop(self, reason: str) -> None:
        meta = self._meta()
        meta.setdefault("stops", []).append({"time": time.time(), "reason": reason})
        durable.write_json(self.meta_path, meta)

    # ---- the loop ---------------------------------------------------------------------------
    def run(self) -> str:
        self._checkout_branch()
        meta = self._meta()
        accept = self.settings.accept
        meta.update({"name": self.name, "branch": self.branch, "task": self.task.spec.name,
                     "task_key": self.task.key, "metric": self.task.spec.metric,
                     "greater_is_better": self.task.spec.greater_is_better,
                     "accept": {"rule": accept.rule, "z": accept.z, "min_delta": accept.min_delta}})
        meta.setdefault("created", time.time())
        durable.write_json(self.meta_path, meta)
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_sigint) if main_thread else None
        try:
            recovery.recover(self)
            inflight.recover(self)  # candidates a run with --workers left in flight
            if not self.ledger.rows:
                self._baseline()
            if self.settings.run.workers > 1:
                inflight.Scheduler(self).run()  # returns when a stop reason holds and nothing is in flight
            while not (reason := self._stop_reason()):
                self._iteration(self.ledger.next_iter)
        except KeyboardInterrupt:
            reason = "abandoned by a second Ctrl-C during an iteration"
            docker_engine.remove_own(self.engine)
            best = self.ledger.best()
            if best:
                self._reset(best.commit)
            self.pending_path.unlink(missing_ok=True)
        finally:
            docker_engine.remove_own(self.engine)  # nothing of this run may outlive it
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        self._record_stop(reason)
        self.say(f"stopped: {reason}")
        return reason

    def _on_sigint(self, signum, frame):
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = "interrupted by Ctrl-C"
        self.say("Ctrl-C: finishing the current iteration, then stopping (press again to abandon it)")

    def _stop_reason(self) -> str:
        return self.stop_requested or stopping.reason(
            self.rules, self.ledger.rows, time.monotonic() - self.started, self.task.spec.greater_is_better,
            self.task.spec.metric, self.name)

    def _baseline(self) -> None:
        head = self._head()
        source = (self.workspace / "train.py").read_text()
        durable.write_json(self.pending_path, {"iter": 0, "commit": head, "hypothesis": "baseline"})
        proposal = Proposal(hypothesis=checks.hypothesis(source.encode()) or "baseline", train_py=source)
        row = self._evaluate_and_record(0, proposal, head, agent_seconds=0.0, started=time.monotonic())
        if row.status is not Status.BASELINE:
            raise ArctlError(f"the baseline train.py did not evaluate cleanly ({row.verdict}: {row.reason}); "
                             "fix it on the starting branch, delete the run branch and start again")

    def _context(self, iteration: int) -> Context:
        best = self.ledger.best()
        program = self.workspace / "program.md"
        if self._card is None:
            self._card = task_card(self.task, self.limits)
        baseline = self.ledger.rows[0]  # the agent sees scores rounded to the noise of its folds (feedback.py)
        return Context(iteration=iteration, program=program.read_text() if program.exists() else "",
                       task_card=self._card, best_train_py=(self.workspace / "train.py").read_text(),
                       best_summary=feedback.best_summary(best, baseline, self.task.spec.metric),
                       history=self.ledger.rows[-self.settings.agent.history:], step=feedback.noise_step(baseline.folds))

    def _iteration(self, iteration: int) -> None:
        started = time.monotonic()
        context = self._context(iteration)
        # The sandbox's containers start and warm up during the agent's turn; each still runs one job only.
        warming = preread.warm_up(self.engine, self.image, self.limits, self.task.spec.folds)  # pre-read first
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
                self._append(self._row(iteration, None, spent, Status.AGENT_ERROR, reason=str(e),
                                       agent_seconds=time.monotonic() - t0, started=started))
                return
            agent_seconds = time.monotonic() - t0
            proposal.hypothesis = untrusted.one_line(  # cleaned before it becomes a commit message
                proposal.hypothesis or checks.hypothesis(proposal.train_py.encode()) or "(no hypothesis)",
                untrusted.LIMITS["hypothesis"])
            problems = checks.static_problems(proposal.train_py.encode())
            if problems:
                self._append(self._row(iteration, None, proposal, Status.REJECTED, verdict="rejected",
                                       reason="; ".join(problems), agent_seconds=agent_seconds, started=started))
                return
            durable.write_json(self.pending_path, {"iter": iteration, "commit": None, "hypothesis": proposal.hypothesis})
            _fault("before_commit", iteration)
            (self.workspace / "train.py").write_text(proposal.train_py)
            commit = repository.commit(self.repo, ["train.py"],
                                       f"{proposal.hypothesis}\n\narctl run {self.name}, iteration {iteration}")
            durable.write_json(self.pending_path, {"iter": iteration, "commit": commit, "hypothesis": proposal.hypothesis})
            _fault("after_commit", iteration)
            consumed = True  # the evaluation uses the slots up, whatever happens to it
            self._evaluate_and_record(iteration, proposal, commit, agent_seconds, started, warming)
        finally:
            if not consumed:
                runner.discard(self.engine, self.image, _ready(warming))

    def _evaluate_and_record(self, iteration: int, proposal: Proposal, commit: str, agent_seconds: float,
                             started: float, warming=None) -> Row:
        repository.keep_reachable(self.repo, self.name, iteration, commit)
        _fault("during_eval", iteration, delay=2.0)
        t0 = time.monotonic()
        warm = _ready(warming) if warming is not None else None  # sandbox time when the agent was quicker
        result = evaluate.evaluate(proposal.train_py.encode(), self.task, self.image, self.limits, engine=self.engine,
                                   warm=warm)
        eval_seconds = time.monotonic() - t0
        _fault("after_eval", iteration)
        best = self.ledger.best()
        status, decision = self._judge(iteration, result, best)
        row = self._row(iteration, commit, proposal, status, verdict=result.verdict, reason=result.reason,
                        agent_seconds=agent_seconds, started=started, result=result, decision=decision,
                        eval_seconds=eval_seconds)
        if status in feedback.FAILED:  # what the agent may see of it comes from a container without real labels
            row.smoke = smoke.safely(proposal.train_py.encode(), self.task, self.image, self.limits, self.engine)
        self._append(row)
        _fault("after_row", iteration)
        self._note(row)
        if not status.keeps and best is not None:
            self._reset(best.commit)
        self.pending_path.unlink(missing_ok=True)
        return row

    def _judge(self, iteration: int, result: evaluate.Evaluation, best: Row | None):
        """The status of an evaluated candidate against the best now, and the acceptance decision if one was made."""
        if result.verdict != "ok":
            return Status.of_verdict(result.verdict), None
        if iteration == 0:
            return Status.BASELINE, None
        accept = self.settings.accept
        decision = acceptance.decide(result.fold_scores, best.folds, self.task.spec.greater_is_better,
                                     accept.rule, accept.z, accept.min_delta)
        status = Status.KEPT if decision.keep else Status.DISCARDED
        # A jump to near-perfect is suspicious; a task whose baseline is already there is just easy.
        if self.task.spec.metric in TRIPWIRE_METRICS and result.mean >= accept.tripwire > self.ledger.rows[0].val:
            status = Status.TRIPWIRE
        return status, decision

    def _row(self, iteration, commit, proposal: Proposal, status: Status, *, reason, agent_seconds, started,
             verdict: str = "", result: evaluate.Evaluation | None = None,
             decision: acceptance.Decision | None = None, eval_seconds: float = 0.0) -> Row:
        total = time.monotonic() - started
        row = Row(iter=iteration, status=status, time=time.time(), commit=commit, verdict=str(verdict),
                  hypothesis=proposal.hypothesis, reason=reason, rule=self.settings.accept.rule,
                  seconds=total, agent_seconds=agent_seconds, eval_seconds=eval_seconds, jail=getattr(self.agent, "jail", ""),
                  controller_seconds=max(0.0, total - agent_seconds - eval_seconds), agent=self.agent.name,
                  notes=proposal.notes, cost_usd=proposal.cost_usd,
                  tokens={"input": proposal.input_tokens, "output": proposal.output_tokens,
                          "cache_read": proposal.cache_read_tokens, "cache_write": proposal.cache_write_tokens},
                  task_key=self.task.key)
        if decision is not None:
            row.delta, row.spread, row.margin = decision.delta, decision.spread, decision.margin
        if result is not None:
            row.val, row.folds, row.jobs = result.mean, result.fold_scores, result.jobs
            row.stderr_tail = result.stderr_tail[-2000:] if result.verdict != "ok" else ""
            row.image_id, row.harness_sha256, row.libraries = result.image_id, result.harness_sha256, result.libraries
            row.candidate_sha256, row.data_sha256 = result.candidate_sha256, result.data_sha256
        return row

    def _note(self, row: Row) -> None:
        """The row as a git note on its commit, so a clone of the repository can verify it (arctl verify)."""
        keys = ("iter", "status", "val", "folds", "rule", "margin", "image_id", "harness_sha256", "task_key",
                "data_sha256", "libraries", "candidate_sha256", "hypothesis")
        note = json.dumps({"run": self.name, **{k: getattr(row, k) for k in keys}}, sort_keys=True)
        repository.add_note(self.repo, self.name, row.commit, note)

    def _append(self, row: Row) -> None:
        self.ledger.append(row)
        self.echo(row)


def _ready(future) -> list:
    """The slots of a warm-up that is no longer wanted (waiting for it to finish starting them)."""
    try:
        return future.result(timeout=60)
    except Exception:  # a failed warm-up left nothing to clean; the janitor has the rest
        return []


def _fault(point: str, iteration: int, delay: float = 0.0) -> None:
    """Fault injection for the crash-safety tests: ARCTL_FAULT=point:iteration kills this process there."""
    if os.environ.get("ARCTL_FAULT", "") != f"{point}:{iteration}":
        return
    if delay:
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    else:
        os.kill(os.getpid(), signal.SIGKILL)
