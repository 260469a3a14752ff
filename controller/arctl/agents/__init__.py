"""Agents propose candidates; the host decides everything else."""

from __future__ import annotations

import os

from arctl.agents.base import Agent, AgentError, Context, Exhausted, Proposal
from arctl.errors import ArctlError
from arctl.settings import Agent as AgentSettings

__all__ = ["Agent", "AgentError", "Context", "Exhausted", "Proposal", "choose"]


def choose(settings: AgentSettings, task_type: str = "binary", jailed: bool = True,
           hidden: tuple = ()) -> tuple[Agent, str]:
    """The agent for a run and a sentence saying why it was chosen.

    jailed: a command agent runs in a bubblewrap jail (False only with --unjailed-agent);
    hidden: host paths the jail must cover (ARCTL_HOME, the workspace, the data file).
    """
    kind, model, command, timeout = settings.kind, settings.model, settings.command, settings.timeout
    if kind == "auto":
        if os.environ.get("ANTHROPIC_API_KEY"):
            kind, why = "claude", "ANTHROPIC_API_KEY is set"
        else:
            kind, why = "compose", ("no ANTHROPIC_API_KEY is set, so the offline compositional agent proposes "
                                    "candidates (the best recipe plus one change each)")
    else:
        why = "chosen in the settings"
    if kind == "claude":
        from arctl.agents.claude import ClaudeAgent

        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise ArctlError("the claude agent needs ANTHROPIC_API_KEY; set it, or use --agent catalog")
        return ClaudeAgent(model=model, timeout=timeout), why
    if kind == "command":
        from arctl.agents.command import CommandAgent

        if not command.strip():
            raise ArctlError("the command agent needs a command: --agent-command '...' or agent.command in arctl.toml")
        return CommandAgent(command, timeout=timeout, jailed=jailed, env=settings.env, paths=settings.paths,
                            hidden=hidden), why
    if kind == "catalog":
        from arctl.agents.catalog import CatalogAgent

        return CatalogAgent(task_type), why
    if kind == "compose":
        from arctl.agents.compose import ComposeAgent

        return ComposeAgent(task_type), why
    raise ArctlError(f"unknown agent {kind!r}: choose claude, command, compose or catalog")
