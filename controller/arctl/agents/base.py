"""What every agent receives and returns."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from arctl import feedback


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
    step: float = 1e-4  # scores are shown to the agent rounded to this (arctl.feedback)
    # Candidates in flight when this one was asked for (--workers > 1): {"candidate", "hypothesis", "notes"};
    # hypothesis "" while that agent is still thinking. Not to be proposed again.
    in_flight: list = dataclasses.field(default_factory=list)


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


def render_request(context: Context) -> str:
    """The request to an in-process agent; the history part is history.md of a command agent."""
    return (
        f"## Current best train.py ({context.best_summary})\n\n```python\n{context.best_train_py}\n```\n\n"
        f"## Recent attempts\n\n{feedback.render_history(context.history, context.step)}\n\n"
        f"{feedback.render_in_flight(context.in_flight)}"
        f"## Your turn (iteration {context.iteration})\n\nPropose one new complete train.py that tests one "
        "hypothesis likely to improve the validation metric. Do not repeat an attempt that was already discarded."
    )
