"""What `arctl prepare` left for a workspace: the prepared task and the sandbox image."""

from __future__ import annotations

import json
import os
from pathlib import Path

from arctl import paths, prepare
from arctl.errors import ArctlError

FILE = "prepared.json"


def save(workspace: Path, task: prepare.PreparedTask, image_tag: str, image_id: str) -> None:
    d = workspace / paths.WORKSPACE_STATE
    d.mkdir(exist_ok=True)
    tmp = d / (FILE + ".tmp")
    tmp.write_text(json.dumps({"task": task.to_json(), "image": image_tag, "image_id": image_id}, indent=2))
    os.replace(tmp, d / FILE)


def load(workspace: Path) -> tuple[prepare.PreparedTask, str]:
    """The prepared task and image tag of a workspace, or a clear error saying to prepare."""
    path = workspace / paths.WORKSPACE_STATE / FILE
    if not path.is_file():
        raise ArctlError(f"{workspace} is not prepared yet: run `arctl prepare` there first")
    info = json.loads(path.read_text())
    manifest = Path(info["task"]["root"]) / "manifest.json"
    if not manifest.is_file():
        raise ArctlError(f"the prepared data at {manifest.parent} is gone: run `arctl prepare` again")
    return prepare.from_manifest(manifest), info["image"]
