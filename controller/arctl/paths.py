"""Where arctl keeps its state on the host.

Prepared data and sealed test labels live under ARCTL_HOME, outside every workspace, so
no agent working in a workspace can read them. Per-workspace state lives in `.arctl/`.
"""

from __future__ import annotations

import os
from pathlib import Path

WORKSPACE_STATE = ".arctl"


def home() -> Path:
    """The host-side store: ARCTL_HOME, else $XDG_DATA_HOME/arctl, else ~/.local/share/arctl."""
    if os.environ.get("ARCTL_HOME"):
        return Path(os.environ["ARCTL_HOME"]).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "arctl"


def tasks_dir() -> Path:
    return home() / "tasks"


def sealed_dir() -> Path:
    return home() / "sealed"


def downloads_dir() -> Path:
    """Downloaded data files, by sha256: a cache ($XDG_CACHE_HOME/arctl/downloads), shared by every ARCTL_HOME."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "arctl" / "downloads"


def workspace_root(start: Path | None = None) -> Path:
    """The nearest ancestor holding arctl.toml, else the starting directory itself."""
    start = (start or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if (candidate / "arctl.toml").is_file():
            return candidate
    return start
