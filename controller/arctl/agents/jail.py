"""The jail of an external agent command: bubblewrap, with the network and nothing of arctl's.

Inside, the agent sees the system read-only (/usr, /etc and the like), its scratch directory
read-write, a private /tmp and an empty HOME, plus only the paths the user allowlisted
(`[agent] paths`). It has its own PID namespace (no /proc/<arctl>/environ to read), no
/run or /var (no Docker socket), and an environment made of the allowlisted variables only
(`[agent] env`). ARCTL_HOME, the workspace, the data file and any Docker socket are covered
with empty tmpfs mounts wherever they would otherwise show through a bound path.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from arctl.errors import ArctlError

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ")  # harmless variables a program expects
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock")
UNJAILED = "none (--unjailed-agent: the agent ran with the user's full permissions)"


class JailUnavailable(ArctlError):
    """bubblewrap is missing or cannot create namespaces here."""


@functools.cache
def problem() -> str:
    """Why a jail cannot be made on this machine, or "" when it can."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap (bwrap) is not installed"
    probe = subprocess.run([bwrap, "--unshare-all", "--share-net", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here ({probe.stderr.strip()[-300:]})"
    return ""


def require() -> None:
    reason = problem()
    if reason:
        raise JailUnavailable(
            f"the command agent runs in a bubblewrap jail, and {reason}. Install bubblewrap (`apt-get install "
            "bubblewrap`; inside a container it needs user namespaces or CAP_SYS_ADMIN), or pass --unjailed-agent "
            "to run the agent with your full permissions (it can then read the labels; every ledger row records it).")


def environment(allowed: tuple[str, ...], home: str) -> dict[str, str]:
    """The agent's whole environment: a few harmless variables and the allowlisted ones."""
    env = {k: os.environ[k] for k in (*BASE_ENV, *allowed) if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=home, TMPDIR="/tmp", TERM="dumb")
    return env


def command(argv: list[str], scratch: Path, paths: tuple[str, ...] = (), hidden: tuple[Path, ...] = ()) -> list[str]:
    """The bwrap command line that runs argv jailed, with scratch as its working directory.

    paths: allowlisted host paths, `PATH` read-only or `PATH:rw`; `~` is the user's home.
    hidden: host paths that must not be visible (ARCTL_HOME, the workspace, the data file).
    """
    home = str(Path.home())
    args = ["bwrap", "--unshare-all", "--share-net", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/var"]
    bound: list[tuple[str, str]] = []  # (where the jail shows it, what it really is on the host)
    for top in SYSTEM:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
            bound.append((top, os.path.realpath(top)))
    resolv = os.path.realpath("/etc/resolv.conf")  # often a link into /run, which the jail does not show
    if os.path.exists(resolv) and not _under(resolv, [r for _, r in bound]):
        args += ["--ro-bind", resolv, resolv]
    if not _under(home, [r for _, r in bound]):
        args += ["--tmpfs", home]
    for entry in paths:
        path, _, mode = entry.rpartition(":") if entry.endswith((":rw", ":ro")) else (entry, "", "ro")
        path = os.path.abspath(os.path.expanduser(path))
        args += ["--bind-try" if mode == "rw" else "--ro-bind-try", path, path]
        bound.append((path, os.path.realpath(path)))
    for secret in (*hidden, *map(Path, DOCKER_SOCKETS), *_docker_host_socket()):
        args += [arg for cover in _covers(secret, bound) for arg in ("--tmpfs", cover)]
    args += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--", *argv]
    return args


def _under(path: str, roots: list[str]) -> bool:
    path = os.path.realpath(path)
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in map(os.path.realpath, roots))


def _covers(secret: Path, bound: list[tuple[str, str]]) -> list[str]:
    """Where the jail must lay an empty tmpfs so that secret shows through no bound path.

    A bound path is shown where it was named, which is not where it really is when it is (or passes
    through) a symlink: the secret is covered at its place inside each view, not at its real path only.
    """
    real = os.path.realpath(secret)
    target = real if os.path.isdir(real) else os.path.dirname(real)  # a file: its directory (a rename stays hidden)
    covers = []
    for shown, source in bound:
        if _under(target, [source]):
            covers.append(os.path.normpath(os.path.join(shown, os.path.relpath(target, source))))
        elif _under(source, [target]):
            covers.append(shown)  # the whole bound path is inside the secret
    return covers


def _docker_host_socket() -> list[Path]:
    host = os.environ.get("DOCKER_HOST", "")
    return [Path(host.removeprefix("unix://"))] if host.startswith("unix://") else []
