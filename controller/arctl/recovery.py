"""Bring a run back to a consistent state on start, after whatever interrupted it.

Checked on every start (see ratchet.py for the three facts this rests on). A commit in flight is
evaluated again once; if the controller dies again while evaluating it (a candidate that crashes the
host, or a host that keeps failing on it), the next start records it as failed instead of retrying forever.
"""

from __future__ import annotations

import json
import time

from arctl import durable, repository
from arctl.agents import Proposal
from arctl.errors import ArctlError
from arctl.ledger import Status
from arctl.sandbox import engine as docker_engine

RETRIES = 1  # re-evaluations of a commit in flight before it is recorded as failed
CRASH_REASON = "the controller crashed while evaluating this candidate"


def recover(ratchet) -> None:
    """Resolve what an interrupted run left: a dirty tree, a discarded tip, or a commit in flight."""
    engine = ratchet.engine  # one docker client, or the settings' pool of engines
    for client in engine.clients() if hasattr(engine, "clients") else [engine]:
        docker_engine.remove_leftovers(client)  # the containers of a controller that died, if one did
    pending = json.loads(ratchet.pending_path.read_text()) if ratchet.pending_path.exists() else None
    best = ratchet.ledger.best()
    head = ratchet._head()
    if ratchet.repo.is_dirty(untracked_files=False):
        ratchet.say("recovery: discarding an uncommitted train.py left by an interrupted iteration")
        ratchet._reset("HEAD")
    restore_notes(ratchet)
    if best is None:
        if pending and pending.get("commit") == head:
            raise ArctlError("the run's branch carries a candidate but has no baseline; delete the branch to start over")
        ratchet.pending_path.unlink(missing_ok=True)
        return
    if head == best.commit:
        ratchet.pending_path.unlink(missing_ok=True)
        return
    if head in {r.commit for r in ratchet.ledger.rows}:
        if head in {r.commit for r in ratchet.ledger.rows if r.status.keeps}:  # stopped between a winner's row and the move
            ratchet.say(f"recovery: moving the branch to the best {best.commit[:10]}, recorded as kept just before "
                        "the interruption")
        else:
            ratchet.say(f"recovery: resetting the discarded commit {head[:10]} to the best {best.commit[:10]}")
        ratchet._reset(best.commit)
        ratchet.pending_path.unlink(missing_ok=True)
        return
    if pending and pending.get("commit") == head and pending["iter"] == ratchet.ledger.next_iter:
        source = repository.train_py_at(ratchet.repo, head).decode("utf-8", "replace")
        proposal = Proposal(hypothesis=pending.get("hypothesis", ""), train_py=source,
                            notes="recovered after an interruption")
        tries = int(pending.get("recoveries", 0))
        if tries >= RETRIES:
            ratchet.say(f"recovery: iteration {pending['iter']} ({head[:10]}) was interrupted {tries + 1} times while "
                        "being evaluated; recording it as failed")
            record_crash(ratchet, pending["iter"], proposal, head, tries + 1, best.commit)
            return
        # Counted before evaluating, durably: a controller that dies again is seen by the next start.
        durable.write_json(ratchet.pending_path, {**pending, "recoveries": tries + 1})
        ratchet.say(f"recovery: iteration {pending['iter']} ({head[:10]}) was committed but not recorded; "
                    "evaluating it again")
        ratchet._evaluate_and_record(pending["iter"], proposal, head, agent_seconds=0.0, started=time.monotonic())
        return
    raise ArctlError(
        f"the tip of {ratchet.branch} ({head[:10]}) is not a commit this run made; arctl will not guess. "
        f"Reset it to the last kept commit with `git reset --hard {best.commit[:10]}` and run again.")


def record_crash(ratchet, iteration: int, proposal: Proposal, commit: str, attempts: int, best: str) -> None:
    """Record a commit the controller could not get through as CRASHED, then reset to the best."""
    row = ratchet._row(iteration, commit, proposal, Status.CRASHED, verdict="crashed",
                       reason=f"{CRASH_REASON} ({attempts} attempts); recorded as failed instead of retried",
                       agent_seconds=0.0, started=time.monotonic())
    ratchet._append(row)
    ratchet._note(row)
    ratchet._reset(best)
    ratchet.pending_path.unlink(missing_ok=True)


def restore_notes(ratchet) -> None:
    """Write the note of any recorded row that lacks it: the process stopped between the row and its note.

    The ledger is the record; a note is its copy on the commit, which `arctl verify` reads in a clone.
    """
    noted = repository.noted(ratchet.repo, ratchet.name)
    for row in ratchet.ledger.rows:
        if row.commit and row.commit not in noted:
            ratchet.say(f"recovery: restoring the note of iteration {row.iter} ({row.commit[:10]}), "
                        "recorded just before the interruption")
            ratchet._note(row)
            noted.add(row.commit)
