"""An external agent CLI (claude -p, codex exec, aider, ...) working in a scratch directory.

The scratch directory holds only train.py, program.md, task_card.md and history.md: no data,
no ledger, no git. arctl takes back the train.py the agent leaves; changes to anything else
are ignored and reported.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from arctl import checks
from arctl.agents.base import AgentError, Context, Proposal, render_history

OUTPUT_TAIL = 2000


class CommandAgent:
    name = "command"

    def __init__(self, command: str, timeout: float = 900):
        self.command = command
        self.timeout = timeout

    def propose(self, context: Context) -> Proposal:
        with tempfile.TemporaryDirectory(prefix="arctl-agent-") as scratch:
            root = Path(scratch)
            (root / "train.py").write_text(context.best_train_py)
            (root / "program.md").write_text(context.program)
            (root / "task_card.md").write_text(context.task_card)
            (root / "history.md").write_text(f"# Recent attempts\n\nBest so far: {context.best_summary}\n\n"
                                             + render_history(context.history) + "\n")
            before = _snapshot(root)
            proc = subprocess.Popen(self.command, shell=True, cwd=root, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                output, _ = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: agents spawn helpers
                proc.communicate()
                raise AgentError(f"the agent command did not finish within {self.timeout:g} s and was killed") from None
            tail = output.decode(errors="replace")[-OUTPUT_TAIL:]
            if proc.returncode != 0:
                raise AgentError(f"the agent command exited with code {proc.returncode}: {tail.strip()[-500:]}")
            after = _snapshot(root)
            if not (root / "train.py").is_file():
                raise AgentError("the agent command removed train.py")
            source = (root / "train.py").read_text(errors="replace")
        others = sorted(p for p in before.keys() | after.keys() if p != "train.py" and before.get(p) != after.get(p))
        if after.get("train.py") == before.get("train.py"):
            raise AgentError("the agent command left train.py unchanged")
        notes = f"ignored changes to {', '.join(others)}" if others else ""
        return Proposal(hypothesis=checks.hypothesis(source.encode()), train_py=source, notes=notes)


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
