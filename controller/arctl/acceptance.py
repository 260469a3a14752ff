"""Deciding whether a candidate really beats the best so far.

noise (default): with d_k the per-fold improvement of the candidate over the best on the
same fold (sign-adjusted so that positive is better), keep only if

    mean(d) > margin,   margin = max(min_delta, z * sd(d) / sqrt(K))

i.e. the mean paired improvement must clear z standard errors of itself (z = 1 by default).
Folds are shared, so fold difficulty cancels out and only the candidate's effect remains.

strict: keep if the mean metric is better at all (margin 0), the plain autoresearch ratchet.
"""

from __future__ import annotations

import dataclasses
import math
import statistics


@dataclasses.dataclass(frozen=True)
class Decision:
    keep: bool
    delta: float  # mean paired improvement, positive = better, in the metric's units
    spread: float  # standard error of the paired differences
    margin: float
    rule: str


def decide(candidate: dict[str, float], best: dict[str, float], greater_is_better: bool, rule: str = "noise",
           z: float = 1.0, min_delta: float = 1e-4) -> Decision:
    folds = sorted(best)
    if sorted(candidate) != folds:
        raise ValueError("candidate and best were not scored on the same folds")
    sign = 1.0 if greater_is_better else -1.0
    diffs = [sign * (candidate[f] - best[f]) for f in folds]
    delta = statistics.fmean(diffs)
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
    if rule == "strict":
        return Decision(delta > 0, delta, se, 0.0, rule)
    margin = max(min_delta, z * se)
    return Decision(delta > margin, delta, se, margin, rule)
