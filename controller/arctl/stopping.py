"""When a run stops: the user's limits, the agent giving up, and the leakage tripwire."""

from __future__ import annotations

import dataclasses

from arctl.ledger import Row, Status

MAX_AGENT_FAILURES = 3


@dataclasses.dataclass(frozen=True)
class StopRules:
    max_iters: int | None = None  # total iterations in the run's ledger, baseline included
    max_time: float | None = None  # seconds in this invocation
    max_cost: float | None = None  # US dollars of agent spend over the whole run
    target: float | None = None  # stop once the best validation metric reaches this
    patience: int | None = None  # stop after this many iterations without a keep


def reason(rules: StopRules, rows: list[Row], elapsed: float, greater_is_better: bool, metric: str,
           run: str) -> str:
    """Why the run should stop now, or "" to go on. A pure function of the ledger and the clock."""
    kept = [r for r in rows if r.status.keeps]
    best = kept[-1] if kept else None
    if rules.max_iters is not None and len(rows) >= rules.max_iters:
        return f"reached --max-iters {rules.max_iters}"
    if rules.max_time is not None and elapsed >= rules.max_time:
        return f"reached --max-time {rules.max_time:g} s"
    spent = sum(r.cost_usd for r in rows)
    if rules.max_cost is not None and spent >= rules.max_cost:
        return f"reached --max-cost ${rules.max_cost:g} (spent ${spent:.4f})"
    if rules.target is not None and best is not None and best.val is not None:
        if (best.val >= rules.target) if greater_is_better else (best.val <= rules.target):
            return f"reached --target {rules.target:g} ({metric} {best.val:.4f})"
    if rules.patience is not None:
        since = [r for r in rows if r.iter > (best.iter if best else 0)]
        if len(since) >= rules.patience:
            return f"no candidate kept in the last {rules.patience} iterations (--patience)"
    recent = rows[-MAX_AGENT_FAILURES:]
    if len(recent) == MAX_AGENT_FAILURES and all(r.status is Status.AGENT_ERROR for r in recent):
        return f"the agent failed {MAX_AGENT_FAILURES} times in a row: {recent[-1].reason}"
    tripped = [r for r in rows if r.status is Status.TRIPWIRE]
    if tripped:
        return (f"leakage tripwire: iteration {tripped[-1].iter} scored {metric} {tripped[-1].val:.4f}, beyond what "
                f"this task allows without a leak; inspect refs/arctl/{run}/iter-{tripped[-1].iter}")
    return ""
