"""Build the sandbox image from Dockerfile.sandbox, online or from a local wheelhouse."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import docker
import docker.errors

HERE = Path(__file__).resolve().parent
DOCKERFILE = HERE / "Dockerfile.sandbox"
REQUIREMENTS = HERE / "requirements.txt"
DEFAULT_BASE = "python:3.11-slim"
REPOSITORY = "arctl-sandbox"


class BuildFailed(RuntimeError):
    pass


def _dockerfile() -> Path:
    # Installed: shipped beside this module. From a source tree: the repository's top level.
    return DOCKERFILE if DOCKERFILE.is_file() else HERE.parent / "Dockerfile.sandbox"


def image_tag() -> str:
    """A tag that changes whenever the Dockerfile or the pinned libraries change.

    The base is left out on purpose: an image built from a locally imported Debian base
    serves the same as one from the registry's slim image (its id is recorded per evaluation).
    """
    h = hashlib.sha256()
    for part in (_dockerfile().read_bytes(), REQUIREMENTS.read_bytes()):
        h.update(hashlib.sha256(part).digest())
    return f"{REPOSITORY}:{h.hexdigest()[:12]}"


def find(engine: docker.DockerClient, tag: str):
    try:
        return engine.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def build(engine: docker.DockerClient, base: str = DEFAULT_BASE, wheelhouse: Path | None = None,
          progress: Callable[[str], None] = lambda line: None) -> tuple[str, str]:
    """Build the image; return (tag, image id). Offline when a wheelhouse is given."""
    tag = image_tag()
    with tempfile.TemporaryDirectory(prefix="arctl-build-") as ctx:
        ctx_path = Path(ctx)
        shutil.copy(_dockerfile(), ctx_path / "Dockerfile")
        wheels = ctx_path / "sandbox" / "wheels"
        wheels.mkdir(parents=True)
        shutil.copy(REQUIREMENTS, ctx_path / "sandbox" / "requirements.txt")
        if wheelhouse:
            found = sorted(Path(wheelhouse).glob("*.whl"))
            if not found:
                raise BuildFailed(f"the wheelhouse {wheelhouse} holds no wheels; fill it with `arctl image wheelhouse {wheelhouse}`")
            for whl in found:
                os.link(whl, wheels / whl.name) if _same_fs(whl, wheels) else shutil.copy(whl, wheels)
        log: list[str] = []
        try:
            for chunk in engine.api.build(path=ctx, tag=tag, buildargs={"BASE": base}, rm=True, forcerm=True,
                                          decode=True, labels={"org.arctl.role": "sandbox", "org.arctl.base": base}):
                if "error" in chunk:
                    raise BuildFailed(_failure(chunk["error"], log, base))
                line = chunk.get("stream", "").rstrip()
                if line:
                    log.append(line)
                    progress(line)
        except docker.errors.APIError as e:
            raise BuildFailed(_failure(str(e), log, base)) from e
    built = engine.images.get(tag)
    built.tag(REPOSITORY, "latest")  # the name compose.yaml uses
    return tag, built.id


def _same_fs(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def _failure(error: str, log: list[str], base: str) -> str:
    hint = ""
    if "pull access denied" in error or "not found" in error or "failed to resolve" in error or "lookup" in error:
        hint = (f"\nThe base image {base!r} could not be obtained. Without a registry, import a local base "
                "image and pass it with --base (see the README).")
    elif "pip" in "\n".join(log[-20:]).lower():
        hint = "\npip could not install the pinned libraries: without network, build from a wheelhouse (--wheelhouse)."
    return "image build failed: " + error.strip() + "\n" + "\n".join(log[-15:]) + hint


def wheelhouse(dest: Path, python_version: str = "3.11") -> None:
    """Download every pinned wheel for the image's platform into dest (for offline builds)."""
    machine = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())
    tags = [f"manylinux_2_{minor}_{machine}" for minor in (36, 34, 28, 27, 24, 17)] + [f"manylinux2014_{machine}"]
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps",
           "--python-version", python_version, "--implementation", "cp", "-r", str(REQUIREMENTS), "-d", str(dest)]
    for t in tags:
        cmd += ["--platform", t]
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(cmd, check=True)


LIBRARIES = ["numpy", "scipy", "pandas", "scikit-learn", "lightgbm", "xgboost-cpu", "flaml"]


def versions(engine: docker.DockerClient, image_id: str, cache_dir: Path) -> dict[str, str]:
    """Python and the pinned library versions as the image itself reports them (cached per image id)."""
    cache = cache_dir / (image_id.replace("sha256:", "") + ".json")
    if cache.is_file():
        return json.loads(cache.read_text())
    script = ("import importlib.metadata as m, json, platform; print(json.dumps({'python': platform.python_version(), "
              f"**{{d: m.version(d) for d in {LIBRARIES!r}}}}}))")
    out = engine.containers.run(image_id, ["python3", "-c", script], network_mode="none", remove=True)
    found = json.loads(out)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(found))
    return found
