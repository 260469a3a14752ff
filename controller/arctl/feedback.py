"""What an agent is told about earlier attempts, and nothing more.

The agent is an optimiser, and any text that reaches it from a container that held real labels
can carry those labels (a predictions header, stderr, an exit code). So a model agent (Claude, or a
command in its jail) is shown per attempt only (arctl's own offline agents, catalog and compose, are
deterministic host code and read the ledger rows):

- its own hypothesis (written by the agent before anything ran);
- one outcome code in arctl's own words: kept, discarded, failed, tripwire (and, from the agent's
  own side, rejected by the static checks or no proposal);
- on a keep, the new best score rounded to the noise step of the folds, as in the Ladder
  mechanism for leaderboards (Blum & Hardt 2015): differences below the noise are not shown;
- for a failed candidate, what the smoke job said: the same candidate run once on the same
  schema with scrambled labels, in a container that held no real label (arctl.smoke).

Bits about the labels per evaluated iteration: log2(4) = 2 from the outcome, plus, on a keep,
log2(levels) for the rounded best (levels = range / step + 1; 6.7 bits for roc_auc at step 0.01).
The per-fold scores, reasons and stderr of the real jobs stay in the ledger for the human.
"""

from __future__ import annotations

import math
import statistics

from arctl.ledger import Row, Status
from arctl.untrusted import clean, one_line

FAILED = (Status.CRASHED, Status.TIMEOUT, Status.OOM, Status.INVALID)
OUTCOMES = {
    Status.BASELINE: "baseline: the starting train.py",
    Status.KEPT: "KEPT: it beat the best by more than the noise margin and is the new best",
    Status.DISCARDED: "DISCARDED: it was not better than the best by more than the noise margin",
    Status.TRIPWIRE: "TRIPWIRE: a near-perfect validation score, which on real data means a leak; not kept",
    Status.REJECTED: "REJECTED by the static checks before running",
    Status.AGENT_ERROR: "NO PROPOSAL: the agent gave no usable train.py",
    **{s: "FAILED: a fold job did not produce valid predictions (crashed, timed out, ran out of memory, or wrote "
          "an invalid file)" for s in FAILED},
}
SMOKE_LINES = 12


def noise_step(folds: dict[str, float] | list[float]) -> float:
    """The rounding step: the largest of 1, 2, 5 x 10^k not above the standard error of the fold mean."""
    values = list(folds.values()) if isinstance(folds, dict) else list(folds)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    if not math.isfinite(se) or se <= 1e-4:
        return 1e-4
    base = 10 ** math.floor(math.log10(se))
    return next(m * base for m in (5, 2, 1) if m * base <= se)


def rounded(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{round(value / step) * step:.{decimals}f}"


def best_summary(best: Row, baseline: Row, metric: str) -> str:
    step = noise_step(baseline.folds)
    return (f"iteration {best.iter}, {metric} ≈ {rounded(best.val, step)} (rounded to {step:g}, the noise level "
            "of the folds)")


def render_row(row: Row, step: float) -> list[str]:
    lines = [f"- iter {row.iter}: {OUTCOMES[row.status]} — {one_line(row.hypothesis, 300)}"]
    if row.status in (Status.BASELINE, Status.KEPT) and row.val is not None:
        lines.append(f"  best is now ≈ {rounded(row.val, step)}")
    elif row.status in (Status.REJECTED, Status.AGENT_ERROR) and row.reason:
        lines.append(f"  why: {one_line(row.reason, 600)}")  # from the agent's own source or reply
    elif row.status in FAILED:
        lines += smoke_lines(row.smoke)
    return lines


def why(row: Row) -> str:
    """One label-free line on why an attempt was not scored (for `arctl status`)."""
    if row.status in (Status.REJECTED, Status.AGENT_ERROR):
        return one_line(row.reason, 300)
    if row.status in FAILED and row.smoke:
        return one_line(f"smoke job: {row.smoke.get('verdict')}: {row.smoke.get('reason')}", 300)
    return ""


def smoke_lines(smoke: dict) -> list[str]:
    if not smoke:
        return ["  (no smoke job was run for this attempt)"]
    verdict = one_line(smoke.get("verdict"), 20)
    if verdict == "ok":
        return ["  smoke job (same schema, scrambled labels): ran cleanly, so the failure depends on the real "
                "labels, the data size or the time and memory budget"]
    lines = [f"  smoke job (same schema, scrambled labels): {verdict}: {one_line(smoke.get('reason'), 400)}"]
    tail = [t for t in clean(smoke.get("stderr_tail"), 4096).splitlines() if t.strip()][-SMOKE_LINES:]
    if tail:
        lines.append("  last lines of its stderr:")
        lines += ["      " + one_line(t, 300) for t in tail]
    return lines


def render_history(rows: list[Row], step: float) -> str:
    if not rows:
        return "(no attempts yet)"
    return "\n".join(line for row in rows for line in render_row(row, step))


def render_in_flight(in_flight: list) -> str:
    """The hypotheses being evaluated right now (--workers > 1), so an agent does not propose them again;
    "" when none is (one worker), so the request is then exactly what it was."""
    if not in_flight:
        return ""
    lines = [f"- {one_line(c['hypothesis'], 300)}" if c.get("hypothesis") else "- (another agent is still thinking)"
             for c in in_flight]
    return ("## In flight now (being evaluated; not scored yet; do not propose these again)\n\n"
            + "\n".join(lines) + "\n\n")


def history_md(context) -> str:
    """history.md of a command agent's scratch directory: exactly what the Claude agent is sent."""
    in_flight = render_in_flight(getattr(context, "in_flight", []))
    return (f"# Recent attempts\n\nBest so far: {context.best_summary}\n\n"
            + render_history(context.history, context.step) + "\n" + ("\n" + in_flight if in_flight else ""))
