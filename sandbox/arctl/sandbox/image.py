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
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import docker
import docker.errors

HERE = Path(str(resources.files(__package__)))
DOCKERFILE = HERE / "Dockerfile.sandbox"  # the checkout's top-level Dockerfile.sandbox links here
REQUIREMENTS = HERE / "requirements.txt"
DEFAULT_BASE = "python:3.11-slim"
LOCAL_BASE = "arctl-base:bookworm"  # made with debootstrap where no registry is reachable
REPOSITORY = "arctl-sandbox"


class BuildFailed(RuntimeError):
    pass


def image_tag() -> str:
    """A tag that changes whenever the Dockerfile or the pinned libraries change.

    The base is left out on purpose: an image built from a locally imported Debian base
    serves the same as one from the registry's slim image (its id is recorded per evaluation).
    """
    h = hashlib.sha256()
    for part in (DOCKERFILE.read_bytes(), REQUIREMENTS.read_bytes()):
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
        shutil.copy(DOCKERFILE, ctx_path / "Dockerfile")
        wheels = ctx_path / "sandbox" / "wheels"  # the same paths as in the checkout, the usual build context
        wheels.mkdir(parents=True)
        (ctx_path / "sandbox" / "arctl" / "sandbox").mkdir(parents=True)
        shutil.copy(REQUIREMENTS, ctx_path / "sandbox" / "arctl" / "sandbox" / "requirements.txt")
        if wheelhouse:
            found = sorted(Path(wheelhouse).glob("*.whl"))
            if not found:
                raise BuildFailed(f"the wheelhouse {wheelhouse} holds no wheels; "
                                  f"fill it with `arctl image wheelhouse {wheelhouse}`")
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


def ensure(engine: docker.DockerClient, base: str, wheelhouse: Path | None, force: bool = False,
           progress: Callable[[str], None] = lambda line: None) -> tuple[str, str, bool]:
    """The sandbox image for this version of arctl, built only when missing: (tag, id, whether it was built)."""
    tag = image_tag()
    found = None if force else find(engine, tag)
    if found is not None:
        found.tag(REPOSITORY, "latest")  # the name compose.yaml uses
        return tag, found.id, False
    return (*build(engine, base, wheelhouse, progress), True)


def push(pool, tag: str, progress: Callable[[str], None] = lambda line: None):
    """Load the image `tag` from the pool's first engine into each other engine that lacks it.

    The archive streams from one engine to the other (save, then load) and keeps the image id,
    so every engine runs the very same image. Yields (engine, what happened) as each is done.
    """
    source = find(pool.primary, tag)
    if source is None:
        raise BuildFailed(f"the image {tag} is not on the first engine ({pool.engines[0].name}): build it there "
                          "first (`arctl image build`)")
    yield pool.engines[0].name, f"has {tag} ({source.id[:19]})"
    for engine in pool.engines[1:]:
        found = find(engine.client, tag)
        if found is not None and found.id == source.id:
            yield engine.name, f"has {tag} already"
            continue
        progress(f"loading {tag} into {engine.name} …")
        engine.client.images.load(source.save(named=True))
        loaded = engine.client.images.get(tag)
        if loaded.id != source.id:
            raise BuildFailed(f"{engine.name} holds {tag} as {loaded.id[:19]}, not {source.id[:19]}; remove it there "
                              "and push again")
        yield engine.name, f"loaded {tag} ({loaded.id[:19]})"


def base_image(engine: docker.DockerClient, mirror: str = "http://deb.debian.org/debian",
               progress: Callable[[str], None] = lambda line: None) -> str:
    """A base for the sandbox image on this engine: the registry's python:3.11-slim when it can be had,
    else a Debian bookworm with Python made here with debootstrap (root only) and imported."""
    for name in (DEFAULT_BASE, LOCAL_BASE):
        if find(engine, name) is not None:
            return name
    try:
        engine.images.pull(DEFAULT_BASE)
        return DEFAULT_BASE
    except docker.errors.DockerException:
        progress(f"{DEFAULT_BASE} cannot be pulled (no registry reachable): making {LOCAL_BASE} with debootstrap")
    if not shutil.which("debootstrap"):
        raise BuildFailed("no registry is reachable and debootstrap is not installed: install it "
                          "(apt-get install debootstrap) or pass an image you have with --base")
    if os.geteuid() != 0:
        raise BuildFailed("making a base image with debootstrap needs root: run this as root, or pass an image "
                          "you have with --base")
    with tempfile.TemporaryDirectory(prefix="arctl-base-") as root:
        log = Path(root) / "debootstrap.log"
        target = Path(root) / "rootfs"
        with open(log, "w") as out:
            done = subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,python3-pip,libgomp1",
                                   "bookworm", str(target), mirror], stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise BuildFailed(f"debootstrap failed (exit {done.returncode}):\n" + "\n".join(log.read_text().splitlines()[-15:]))
        archive = Path(root) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(target), "-cf", str(archive), "."], check=True)
        repository, tag = LOCAL_BASE.split(":")
        engine.api.import_image_from_file(str(archive), repository=repository, tag=tag)
    return LOCAL_BASE


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
