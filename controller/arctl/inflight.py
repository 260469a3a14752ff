"""Several candidates in flight at once (`arctl run --workers N`).

Agents are asked concurrently, each told what is already in flight (Context.in_flight). A proposal is
committed on its own ref, refs/arctl/RUN/inflight/N, on the best at its start, never on the run's branch.
When its evaluation finishes it is judged, on the same folds, against the best at that moment: a
candidate that beat the best of its start but not the best of its finish is DISCARDED. A winner goes
onto the branch (as a commit of its tree on the current best when the best moved meanwhile), so the
branch stays the chain of winners. Rows are appended in finishing order; iter is the row's position,
candidate its launch number.

Git, the ledger and runs/NAME/inflight.json are touched by the calling thread only; the threads run
the agents and the evaluations. Crash safety: inflight.json names every candidate in flight and, once
committed, its commit (written before it is evaluated). On a start, a committed candidate not in the
ledger is evaluated again and recorded once; one whose re-evaluation was itself interrupted RETRIES
times is recorded CRASHED; one already in the ledger is dropped, so nothing is scored twice.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import threading
import time

from arctl import checks, durable, evaluate, feedback, repository, smoke, untrusted
from arctl.agents import AgentError, Context, Exhausted, Proposal
from arctl.ledger import Status
from arctl.recovery import CRASH_REASON, RETRIES
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import preread, runner

STATE = "inflight.json"


def ref(run: str, number: int) -> str:
    return f"refs/arctl/{run}/inflight/{number}"


@dataclasses.dataclass
class Candidate:
    number: int
    started: float
    context: Context | None = None
    proposal: Proposal | None = None
    agent_seconds: float = 0.0
    commit: str | None = None
    parent: str = ""  # the best when its agent was asked: what its train.py was written from
    recoveries: int = 0
    future: concurrent.futures.Future | None = None
    warming: concurrent.futures.Future | None = None
    finished: float = 0.0  # when its thread's work ended: the order rows are recorded in

    def to_json(self) -> dict:
        p = self.proposal
        return {"candidate": self.number, "commit": self.commit, "hypothesis": p.hypothesis if p else "",
                "notes": p.notes if p else "", "agent_seconds": self.agent_seconds, "recoveries": self.recoveries}


class Scheduler:
    """Up to settings.run.workers candidates in flight for one Ratchet (whose helpers it uses)."""

    def __init__(self, ratchet):
        self.r = ratchet
        self.workers = max(1, ratchet.settings.run.workers)
        self.path = ratchet.dir / STATE
        self.flying: dict[int, Candidate] = {}
        self.threads = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="arctl-cand")

    # ---- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Launch, wait, record, until a stop reason holds and nothing is in flight."""
        try:
            while True:
                while self._may_launch():
                    self._launch()
                if not self.flying:
                    return
                futures = {c.future: c for c in self.flying.values()}
                done, _ = concurrent.futures.wait(futures, timeout=0.5, return_when=concurrent.futures.FIRST_COMPLETED)
                for c in sorted((futures[f] for f in done), key=lambda c: c.finished):
                    self._advance(c)
        except KeyboardInterrupt:
            self._abandon()
            raise
        finally:  # nothing in flight when it returns; after an error or an abandon, nothing worth waiting for
            self.threads.shutdown(wait=False, cancel_futures=True)

    def _may_launch(self) -> bool:
        if len(self.flying) >= self.workers or self.r._stop_reason():
            return False
        cap = self.r.rules.max_iters  # every candidate in flight will be a row
        return cap is None or len(self.r.ledger.rows) + len(self.flying) < cap

    def _launch(self) -> None:
        c = Candidate(self._next_number(), time.monotonic(), parent=self.r._head())
        c.context = self.r._context(c.number)
        c.context.in_flight = [{"candidate": o.number, "hypothesis": o.proposal.hypothesis if o.proposal else "",
                                "notes": o.proposal.notes if o.proposal else ""} for o in self.flying.values()]
        c.warming = preread.warm_up(self.r.engine, self.r.image, self.r.limits, self.r.task.spec.folds)  # in the agent's turn
        c.future = self.threads.submit(self._propose, c)
        self.flying[c.number] = c
        self._save()

    def _next_number(self) -> int:
        """The smallest candidate number not recorded and not in flight (a proposal lost in a crash frees its number)."""
        used = {row.candidate if row.candidate is not None else row.iter for row in self.r.ledger.rows}
        used |= set(self.flying)
        n = 1
        while n in used:
            n += 1
        return n

    def _advance(self, c: Candidate) -> None:
        """A thread finished: a proposal to commit and evaluate, or an evaluation to judge."""
        if c.commit is None:
            self._proposed(c)
        else:
            result, eval_seconds, smoked = c.future.result()
            self.record(c, result, eval_seconds, smoked)

    # ---- the threads ----------------------------------------------------------------------------
    def _propose(self, c: Candidate):
        t0 = time.monotonic()
        try:
            return self.r.agent.propose(c.context)
        finally:
            c.agent_seconds = time.monotonic() - t0
            c.finished = time.monotonic()

    def _evaluate(self, c: Candidate, warming=None):
        r = self.r
        t0 = time.monotonic()
        try:
            warm = runner_ready(warming) if warming is not None else None  # waited for here, not by the loop
            result = evaluate.evaluate(c.proposal.train_py.encode(), r.task, r.image, r.limits, engine=r.engine,
                                       warm=warm)
            smoked = {}
            if result.verdict != "ok" and Status.of_verdict(result.verdict) in feedback.FAILED:
                smoked = smoke.safely(c.proposal.train_py.encode(), r.task, r.image, r.limits, r.engine)
            return result, time.monotonic() - t0, smoked
        finally:
            c.finished = time.monotonic()

    # ---- what the calling thread does -------------------------------------------------------
    def _proposed(self, c: Candidate) -> None:
        r = self.r
        try:
            proposal = c.future.result()
        except Exhausted as e:
            r.stop_requested = r.stop_requested or str(e)
            return self._drop(c)
        except AgentError as e:
            spent = getattr(e, "proposal", None) or Proposal("", "")
            row = r._row(r.ledger.next_iter, None, spent, Status.AGENT_ERROR, reason=str(e),
                         agent_seconds=c.agent_seconds, started=c.started)
            row.candidate = c.number
            r._append(row)
            return self._drop(c)
        proposal.hypothesis = untrusted.one_line(  # cleaned before it becomes a commit message
            proposal.hypothesis or checks.hypothesis(proposal.train_py.encode()) or "(no hypothesis)",
            untrusted.LIMITS["hypothesis"])
        c.proposal = proposal
        problems = checks.static_problems(proposal.train_py.encode())
        if problems:
            row = r._row(r.ledger.next_iter, None, proposal, Status.REJECTED, verdict="rejected",
                         reason="; ".join(problems), agent_seconds=c.agent_seconds, started=c.started)
            row.candidate = c.number
            r._append(row)
            return self._drop(c)
        message = f"{proposal.hypothesis}\n\narctl run {r.name}, candidate {c.number}"
        c.commit = repository.commit_file(r.repo, c.parent, "train.py", proposal.train_py.encode(), message,
                                          ref(r.name, c.number))
        self._save()  # durable before it is evaluated: a crash from here on re-evaluates it
        warm, c.warming = c.warming, None
        c.future = self.threads.submit(self._evaluate, c, warm)

    def record(self, c: Candidate, result: evaluate.Evaluation, eval_seconds: float, smoked: dict) -> None:
        """Judge a finished candidate against the best now; the branch moves only to a winner."""
        r = self.r
        iteration = r.ledger.next_iter
        best = r.ledger.best()
        status, decision = r._judge(iteration, result, best)
        commit = c.commit
        if status.keeps and r.repo.commit(commit).parents[0].hexsha != best.commit:
            # The best moved while it was in flight: the same tree, on the best, so the branch stays a chain of winners.
            commit = repository.commit_tree(r.repo, r.repo.commit(commit).tree.hexsha, best.commit,
                                            r.repo.commit(commit).message, f"refs/arctl/{r.name}/iter-{iteration}")
        repository.keep_reachable(r.repo, r.name, iteration, commit)
        row = r._row(iteration, commit, c.proposal, status, verdict=result.verdict, reason=result.reason,
                     agent_seconds=c.agent_seconds, started=c.started, result=result, decision=decision,
                     eval_seconds=eval_seconds)
        row.candidate, row.smoke = c.number, smoked
        r._append(row)  # fsynced: from here on a restart drops this candidate instead of scoring it again
        _fault("after_record", c.number)
        r._note(row)
        if status.keeps:
            r._reset(commit)
        self.flying.pop(c.number, None)
        r.repo.git.update_ref("-d", ref(r.name, c.number))
        self._save()

    def _drop(self, c: Candidate) -> None:
        if c.warming is not None:  # its warm containers go in the background: the loop does not wait for them
            warming, r = c.warming, self.r
            threading.Thread(target=lambda: runner.discard(r.engine, r.image, runner_ready(warming)), daemon=True).start()
        self.flying.pop(c.number, None)
        self._save()

    def _abandon(self) -> None:
        """A second Ctrl-C: what is in flight is given up (no row); its refs go, the janitor takes its containers."""
        r = self.r
        docker_engine.remove_own(r.engine)
        for c in list(self.flying.values()):
            if c.commit:
                r.repo.git.update_ref("-d", ref(r.name, c.number))
        self.flying.clear()
        self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        self.r.progress.flying({n: runner.source_key(c.proposal.train_py.encode()) if c.commit else ""
                                for n, c in self.flying.items()})  # live progress: each one's phase
        if self.flying:
            durable.write_json(self.path, {"candidates": [c.to_json() for c in self.flying.values()]})
        else:
            self.path.unlink(missing_ok=True)


def runner_ready(warming) -> list:
    """The slots of a warm-up (waiting for it to finish starting them); [] when it failed."""
    if warming is None:
        return []
    try:
        return warming.result(timeout=60)
    except Exception:  # a failed warm-up left nothing to clean; the janitor has the rest
        return []


def recover(ratchet) -> None:
    """Record, once each, the committed candidates a run with --workers left in flight; forget the others."""
    path = ratchet.dir / STATE
    if not path.exists():
        return
    entries = json.loads(path.read_text()).get("candidates", [])
    recorded = {row.candidate if row.candidate is not None else row.iter for row in ratchet.ledger.rows}
    scheduler = Scheduler(ratchet)
    for e in sorted(entries, key=lambda e: e["candidate"]):
        number, commit = int(e["candidate"]), e.get("commit")
        if not commit or number in recorded or ratchet.ledger.best() is None:
            if commit and number not in recorded:
                ratchet.say(f"recovery: candidate {number} has no baseline to be judged against; dropped")
            _forget(ratchet, number)  # a proposal lost before its commit, or one already recorded
            continue
        source = repository.train_py_at(ratchet.repo, commit).decode("utf-8", "replace")
        scheduler.flying[number] = Candidate(
            number, time.monotonic(), commit=commit, agent_seconds=float(e.get("agent_seconds", 0.0)),
            recoveries=int(e.get("recoveries", 0)),
            proposal=Proposal(hypothesis=e.get("hypothesis", ""), train_py=source,
                              notes=e.get("notes") or "recovered after an interruption"))
    scheduler._save()  # every one still named until it is recorded
    try:
        for c in sorted(scheduler.flying.values(), key=lambda c: c.number):
            if c.recoveries >= RETRIES:
                ratchet.say(f"recovery: candidate {c.number} ({c.commit[:10]}) was interrupted {c.recoveries + 1} "
                            "times while being evaluated; recording it as failed")
                _record_crash(scheduler, c)
                continue
            c.recoveries += 1
            scheduler._save()  # counted before evaluating, durably: a controller that dies again is seen next start
            ratchet.say(f"recovery: candidate {c.number} ({c.commit[:10]}) was in flight; evaluating it again")
            c.started = time.monotonic()
            scheduler.record(c, *scheduler._evaluate(c))
    finally:
        scheduler.threads.shutdown(wait=True)
    path.unlink(missing_ok=True)


def _record_crash(scheduler: Scheduler, c: Candidate) -> None:
    r = scheduler.r
    iteration = r.ledger.next_iter
    repository.keep_reachable(r.repo, r.name, iteration, c.commit)
    row = r._row(iteration, c.commit, c.proposal, Status.CRASHED, verdict="crashed",
                 reason=f"{CRASH_REASON} ({c.recoveries + 1} attempts); recorded as failed instead of retried",
                 agent_seconds=c.agent_seconds, started=c.started)
    row.candidate = c.number
    r._append(row)
    r._note(row)
    scheduler.flying.pop(c.number, None)
    r.repo.git.update_ref("-d", ref(r.name, c.number))
    scheduler._save()


def _fault(point: str, number: int) -> None:
    from arctl.ratchet import _fault as fault  # ARCTL_FAULT=point:candidate kills the process there (tests)
    fault(point, number)


def _forget(ratchet, number: int) -> None:  # no such ref is fine: the proposal was lost before its commit
    ratchet.repo.git.update_ref("-d", ref(ratchet.name, number), with_exceptions=False)
