"""How a job, or a whole candidate, ended."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"  # predictions passed the host's checks (the host then scores them)
    TIMEOUT = "timeout"  # killed at the deadline
    OOM = "oom"  # killed for exceeding the memory limit
    CRASHED = "crashed"  # exited non-zero, or without writing predictions
    INVALID = "invalid"  # wrote something the host refuses (format, size, ids, values)
    REJECTED = "rejected"  # failed the static checks; no container ran
    INFRA = "infra"  # the engine running the job was lost: never the candidate's doing; the job runs again elsewhere


# When folds fail differently, the candidate's verdict names the most telling failure, in this order:
# (an infra outcome, which means no verdict at all), a rejected file, then resource breaches, then crashes, then bad output.
_ORDER = [Verdict.INFRA, Verdict.REJECTED, Verdict.OOM, Verdict.TIMEOUT, Verdict.CRASHED, Verdict.INVALID, Verdict.OK]


def worst(verdicts) -> Verdict:
    """The candidate's verdict from its jobs' verdicts."""
    return min(verdicts, key=_ORDER.index)
