"""An external agent CLI (claude -p, codex exec, aider, ...) working in a jailed scratch directory.

The scratch directory holds only train.py, program.md, task_card.md and history.md: no data,
no ledger, no git. The command runs in a bubblewrap jail (arctl.agents.jail) unless the user
opted out with --unjailed-agent. arctl takes back the train.py the agent leaves; changes to
anything else are ignored and reported.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
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
        root = Path(tempfile.mkdtemp(prefix="arctl-agent-"))
        try:
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
            output = _Tail(proc.stdout)
            try:
                proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: agents spawn helpers
                proc.wait()
                raise AgentError(f"the agent command did not finish within {self.timeout:g} s and was killed") from None
            finally:
                output.join(timeout=10)  # unjailed, a helper it left may hold the pipe open
            tail = output.text()[-OUTPUT_TAIL:]
            if proc.returncode != 0:
                raise AgentError(f"the agent command exited with code {proc.returncode}: {tail.strip()[-500:]}")
            after = _snapshot(root)
            path = root / "train.py"
            if not path.is_file() or path.is_symlink():
                raise AgentError("the agent command removed train.py (or replaced it with a link)")
            if path.stat().st_size > MAX_TRAIN_PY:
                raise AgentError(f"the agent command left a train.py over {MAX_TRAIN_PY // 1024} KiB")
            source = path.read_text(errors="replace")
        finally:
            _remove(root)
        others = sorted(p for p in before.keys() | after.keys() if p != "train.py" and before.get(p) != after.get(p))
        if after.get("train.py") == before.get("train.py"):
            raise AgentError("the agent command left train.py unchanged")
        notes = f"ignored changes to {', '.join(others[:20])}" if others else ""
        return Proposal(hypothesis=checks.hypothesis(source.encode()), train_py=source, notes=notes)


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping only the last bytes: an agent may print more than the host's memory."""

    KEEP = 4 * OUTPUT_TAIL

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.kept = pipe, bytearray()
        self.start()

    def run(self) -> None:
        with self.pipe:
            while chunk := self.pipe.read1(1 << 16):
                self.kept += chunk
                del self.kept[: -self.KEEP]

    def text(self) -> str:
        return self.kept.decode(errors="replace")


def _snapshot(root: Path) -> dict[str, str]:
    """Digest of every plain file, read in chunks: an agent may leave a file larger than the host's memory.

    Walked with a stack, not recursion, and never through a link: the agent may leave a tree thousands
    of directories deep, which must be an AgentError, not a RecursionError that stops the run.
    """
    out, stack = {}, [root]
    try:
        while stack:
            with os.scandir(stack.pop()) as entries:
                for e in entries:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                    elif e.is_file(follow_symlinks=False):
                        with open(e.path, "rb") as f:
                            out[Path(e.path).relative_to(root).as_posix()] = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as e:  # e.g. a path longer than PATH_MAX, made with relative mkdirs
        raise AgentError(f"the agent command left a scratch directory arctl cannot read ({e.strerror})") from None
    return out


def _remove(root: Path) -> None:
    """Delete the scratch directory, however deep or unreadable the agent made it (shutil.rmtree recurses)."""
    try:
        shutil.rmtree(root)
    except (OSError, RecursionError):
        subprocess.run(["chmod", "-R", "u+rwx", "--", str(root)], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(root)], capture_output=True, check=False)
