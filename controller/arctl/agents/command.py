"""An external agent CLI (claude -p, codex exec, aider, ...) working in a jailed scratch directory.

The scratch directory holds only train.py, program.md, task_card.md and history.md: no data,
no ledger, no git. The command runs in a bubblewrap jail (arctl.agents.jail) unless the user
opted out with --unjailed-agent. arctl takes back the train.py the agent leaves; changes to
anything else are ignored and reported.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from arctl import checks, feedback
from arctl.agents import jail
from arctl.agents.base import AgentError, Context, Proposal

OUTPUT_TAIL = 2000
MAX_TRAIN_PY = 1 << 20  # a train.py larger than this is not a proposal


class CommandAgent:
    name = "command"

    def __init__(self, command: str, timeout: float = 900, jailed: bool = True, env: tuple[str, ...] = (),
                 paths: tuple[str, ...] = (), hidden: tuple[Path, ...] = ()):
        if jailed:
            jail.require()
        self.command, self.timeout, self.jailed = command, timeout, jailed
        self.env, self.paths, self.hidden = env, paths, hidden
        self.jail = "bwrap" if jailed else jail.UNJAILED

    def propose(self, context: Context) -> Proposal:
        with tempfile.TemporaryDirectory(prefix="arctl-agent-") as scratch:
            root = Path(scratch)
            (root / "train.py").write_text(context.best_train_py)
            (root / "program.md").write_text(context.program)
            (root / "task_card.md").write_text(context.task_card)
            (root / "history.md").write_text(feedback.history_md(context))
            before = _snapshot(root)
            if self.jailed:
                argv = jail.command(["/bin/sh", "-c", self.command], root, self.paths, self.hidden)
                env = jail.environment(self.env, str(Path.home()))
            else:
                argv, env = ["/bin/sh", "-c", self.command], None
            proc = subprocess.Popen(argv, cwd=root, stdin=subprocess.DEVNULL, env=env,
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
            path = root / "train.py"
            if not path.is_file() or path.is_symlink():
                raise AgentError("the agent command removed train.py (or replaced it with a link)")
            if path.stat().st_size > MAX_TRAIN_PY:
                raise AgentError(f"the agent command left a train.py over {MAX_TRAIN_PY // 1024} KiB")
            source = path.read_text(errors="replace")
        others = sorted(p for p in before.keys() | after.keys() if p != "train.py" and before.get(p) != after.get(p))
        if after.get("train.py") == before.get("train.py"):
            raise AgentError("the agent command left train.py unchanged")
        notes = f"ignored changes to {', '.join(others[:20])}" if others else ""
        return Proposal(hypothesis=checks.hypothesis(source.encode()), train_py=source, notes=notes)


def _snapshot(root: Path) -> dict[str, str]:
    """Digest of every plain file, read in chunks: an agent may leave a file larger than the host's memory."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                out[p.relative_to(root).as_posix()] = hashlib.file_digest(f, "sha256").hexdigest()
    return out
