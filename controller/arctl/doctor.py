"""`arctl doctor`: what is set up, what is missing, and what to do about it."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from arctl import paths, settings, state
from arctl.agents import jail
from arctl.errors import ArctlError
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image


@dataclasses.dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str
    fix: str = ""


def checks(workspace: Path) -> list[Check]:
    out: list[Check] = []
    try:
        engine = docker_engine.client()
        info = engine.version()
        out.append(Check(True, "Docker engine", f"{info.get('Version')} (API {info.get('ApiVersion')})"))
    except docker_engine.EngineUnavailable as e:
        engine = None
        out.append(Check(False, "Docker engine", str(e).split(". ")[0],
                         "start it (`sudo systemctl start docker`, or `dockerd &`)"))
    tag = sandbox_image.image_tag()
    if engine is not None:
        found = sandbox_image.find(engine, tag)
        if found is None:
            out.append(Check(False, "sandbox image", f"{tag} is missing", "run `arctl prepare` or `arctl image build`"))
        else:
            libs = sandbox_image.versions(engine, found.id, paths.home() / "images")
            out.append(Check(True, "sandbox image", f"{tag} {found.id[:19]} from {found.labels.get('org.arctl.base', '?')}; "
                             + ", ".join(f"{k} {v}" for k, v in libs.items())))
    compose = shutil.which("docker-compose")
    out.append(Check(bool(compose), "docker-compose", compose or "not found",
                     "install Debian's docker-compose or the compose plugin, for `docker-compose run --rm grade`"))
    try:
        cfg = settings.load(workspace)
    except ArctlError as e:
        out.append(Check(False, "settings", str(e), "fix arctl.toml"))
        return out
    try:
        task, image_tag = state.load(workspace)
        out.append(Check(True, "prepared data", f"task {task.spec.name} at {task.root} ({task.n_train} train, "
                         f"{task.n_test} sealed test rows); data hash {task.jobs_sha256()[:12]}"))
        if image_tag != tag:
            out.append(Check(False, "workspace image", f"prepared with {image_tag}, current is {tag}",
                             "run `arctl prepare` again"))
    except ArctlError as e:
        out.append(Check(False, "prepared data", str(e), "run `arctl prepare` in the workspace"))
    if cfg.engines:
        out += engine_checks(cfg, tag)
    key = bool(os.environ.get("ANTHROPIC_API_KEY"))
    kind = cfg.agent.kind if cfg.agent.kind != "auto" else ("claude" if key else "compose")
    if kind == "claude":
        out.append(Check(key, "agent", f"claude, model {cfg.agent.model}" + ("" if key else ", but ANTHROPIC_API_KEY is not set"),
                         "export ANTHROPIC_API_KEY, or choose --agent catalog"))
    elif kind == "command":
        out.append(Check(bool(cfg.agent.command.strip()), "agent", f"command: {cfg.agent.command or '(none)'}",
                         "set agent.command in arctl.toml"))
    else:
        out.append(Check(True, "agent", f"{kind} (offline)" + ("" if key else "; set ANTHROPIC_API_KEY to use Claude")))
    problem = jail.problem()
    out.append(Check(not problem, "agent jail", problem or "bubblewrap works: command agents run jailed",
                     "apt-get install bubblewrap (in a container: allow user namespaces), or accept the risk with "
                     "`arctl run --unjailed-agent`"))
    return out


def engine_checks(cfg: settings.Settings, tag: str) -> list[Check]:
    """Every engine of [[engines]]: does it answer, and does it hold the very image the first one has."""
    from arctl.sandbox import pool as sandbox_pool

    out: list[Check] = []
    engines = sandbox_pool.build(list(cfg.engines), cfg.limits().concurrency)
    reference = None
    for engine in engines.engines:
        what = f"engine {engine.name}"
        try:
            info = engine.client.version()
        except docker_engine.EngineUnavailable as e:
            out.append(Check(False, what, str(e).split(". ")[0], "start it, or remove it from [[engines]] in arctl.toml"))
            continue
        found = sandbox_image.find(engine.client, tag)
        reference = reference or (found.id if found is not None else None)
        if found is None or found.id != reference:
            out.append(Check(False, what, f"{info.get('Version')}, {engine.slots} slots; image {tag} "
                             + ("missing" if found is None else f"differs ({found.id[:19]})"), "run `arctl image push`"))
        else:
            out.append(Check(True, what, f"{info.get('Version')}, {engine.slots} slots, image {found.id[:19]}"))
    return out
