"""What every agent receives and returns."""

from __future__ import annotations

import dataclasses
from typing import Protocol


class AgentError(Exception):
    """The agent gave no usable proposal this time (recorded, and the loop goes on)."""


class Exhausted(Exception):
    """The agent has nothing more to propose (the run stops)."""


@dataclasses.dataclass
class Context:
    iteration: int
    program: str  # program.md
    task_card: str
    best_train_py: str
    best_summary: str
    history: list  # recent ledger rows (arctl.ledger.Row), oldest first


@dataclasses.dataclass
class Proposal:
    hypothesis: str
    train_py: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    notes: str = ""


class Agent(Protocol):
    name: str

    def propose(self, context: Context) -> Proposal: ...


def render_history(history: list) -> str:
    """The recent attempts as a compact markdown list, newest last."""
    if not history:
        return "(no attempts yet)"
    lines = []
    for row in history:
        val = f"{row.val:.4f}" if row.val is not None else "-"
        delta = f" (delta {row.delta:+.4f}, margin {row.margin:.4f})" if row.delta is not None else ""
        lines.append(f"- iter {row.iter}: {row.status} val={val}{delta} — {row.hypothesis}")
        if row.reason and not row.status.scored:
            lines.append(f"  reason: {row.reason}")
        if row.stderr_tail and not row.status.scored:
            tail = "\n".join(row.stderr_tail.splitlines()[-10:])
            lines.append("  stderr tail:\n" + "\n".join("    " + t for t in tail.splitlines()))
    return "\n".join(lines)


def render_request(context: Context) -> str:
    return (
        f"## Current best train.py ({context.best_summary})\n\n```python\n{context.best_train_py}\n```\n\n"
        f"## Recent attempts\n\n{render_history(context.history)}\n\n"
        f"## Your turn (iteration {context.iteration})\n\nPropose one new complete train.py that tests one "
        "hypothesis likely to improve the validation metric. Do not repeat an attempt that was already discarded."
    )
