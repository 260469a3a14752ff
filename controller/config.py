"""A workspace's arctl.toml: the task, the budget, the agent and the acceptance rule."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from arctl.errors import ArctlError

FILE = "arctl.toml"

HEART_TASK = '''[task]
name = "heart"              # built-in task: UCI Cleveland heart disease, binary, roc_auc
# data = "path/to/processed.cleveland.data"   # a local copy instead of downloading
'''

TEMPLATE = '''# arctl workspace settings. Command-line options override them.

{task}

[budget]
deadline = 180              # wall-clock seconds for all folds of one candidate
memory_mib = 2048           # per fold container
cpus_per_job = 1.0

[agent]
kind = "auto"               # auto (claude when ANTHROPIC_API_KEY is set, else catalog) | claude | command | catalog
model = "claude-sonnet-4-6"
command = ""                # for kind = "command": e.g. "claude -p 'Follow program.md; edit train.py'"
timeout = 900               # seconds an agent may take for one proposal
history = 12                # recent attempts shown to the agent

[accept]
rule = "noise"              # noise: paired per-fold improvement must clear z standard errors; strict: any gain
z = 1.0
min_delta = 0.0001
tripwire = 0.99             # a validation roc_auc this high stops the run: on real data it means a leak
'''


@dataclasses.dataclass
class Config:
    task: dict = dataclasses.field(default_factory=lambda: {"name": "heart"})  # the [task] table
    deadline: float = 180.0
    memory_mib: int = 2048
    cpus_per_job: float = 1.0
    agent: str = "auto"
    model: str = "claude-sonnet-4-6"
    command: str = ""
    agent_timeout: float = 900.0
    history: int = 12
    rule: str = "noise"
    z: float = 1.0
    min_delta: float = 1e-4
    tripwire: float | None = 0.99


def load(workspace: Path) -> Config:
    path = workspace / FILE
    if not path.is_file():
        return Config()
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ArctlError(f"{path} is not valid TOML: {e}") from None
    task, budget, agent, accept = (raw.get(k, {}) for k in ("task", "budget", "agent", "accept"))
    try:
        cfg = Config(
            task=task or {"name": "heart"},
            deadline=float(budget.get("deadline", 180)), memory_mib=int(budget.get("memory_mib", 2048)),
            cpus_per_job=float(budget.get("cpus_per_job", 1.0)),
            agent=agent.get("kind", "auto"), model=agent.get("model", Config.model),
            command=agent.get("command", ""), agent_timeout=float(agent.get("timeout", 900)),
            history=int(agent.get("history", 12)),
            rule=accept.get("rule", "noise"), z=float(accept.get("z", 1.0)),
            min_delta=float(accept.get("min_delta", 1e-4)),
            tripwire=float(accept["tripwire"]) if "tripwire" in accept else Config.tripwire,
        )
    except (TypeError, ValueError) as e:
        raise ArctlError(f"{path}: a setting has the wrong type: {e}") from None
    if cfg.rule not in ("noise", "strict"):
        raise ArctlError(f"{path}: accept.rule must be 'noise' or 'strict', not {cfg.rule!r}")
    if cfg.agent not in ("auto", "claude", "command", "catalog"):
        raise ArctlError(f"{path}: agent.kind must be auto, claude, command or catalog, not {cfg.agent!r}")
    return cfg
