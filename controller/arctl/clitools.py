"""What the `arctl` commands share: the error handling, common options, the workspace, the engine."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from arctl import display, paths, settings, state
from arctl.errors import ArctlError
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image

console = Console(stderr=True, soft_wrap=True)  # progress and messages; results go to stdout

base_option = click.option(
    "--base", envvar="ARCTL_BASE_IMAGE", default=sandbox_image.DEFAULT_BASE, show_default=True,
    help="Base image of the sandbox (env ARCTL_BASE_IMAGE). Any image with python3 and venv.")
wheelhouse_option = click.option(
    "--wheelhouse", envvar="ARCTL_WHEELHOUSE", type=click.Path(file_okay=False, path_type=Path),
    help="Build offline from the wheels in this directory (env ARCTL_WHEELHOUSE); see `arctl image wheelhouse`.")
budget_options = [
    click.option("--deadline", type=click.FloatRange(min=0, min_open=True),
                 help="Wall-clock seconds for all folds of a candidate [arctl.toml budget.deadline]."),
    click.option("--memory", "memory_mib", type=click.IntRange(min=1),
                 help="Memory limit per fold container, MiB [arctl.toml budget.memory_mib]."),
    click.option("--cpus", "cpus_per_job", type=click.FloatRange(min=0, min_open=True),
                 help="CPUs per fold container [arctl.toml budget.cpus_per_job]."),
    click.option("--runtime", help="OCI runtime for the job containers, e.g. runsc (gVisor) or kata-runtime, "
                 "where installed [arctl.toml sandbox.runtime]."),
    click.option("--isolation", type=click.Choice(["shared", "strict"]),
                 help="strict: run fold jobs one at a time [arctl.toml sandbox.isolation]."),
]


def with_budget(f):
    for option in reversed(budget_options):
        f = option(f)
    return f


class UsageFailure(click.ClickException):
    exit_code = 2


class Group(click.Group):
    """Turns an ArctlError anywhere below into click's one-line error and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArctlError as e:
            raise UsageFailure(display.clean(str(e), 8192)) from None


def workspace() -> tuple[Path, settings.Settings]:
    """The workspace around the current directory and its settings (a bad arctl.toml stops every command)."""
    workspace = paths.workspace_root()
    return workspace, settings.load(workspace)


def prepared(workspace: Path):
    return state.load(workspace)


def data_paths(task) -> tuple[Path, ...]:
    """The data file a task was prepared from, and arctl's download cache: what the agent jail hides."""
    info = json.loads((task.root / "manifest.json").read_text())
    return (*([Path(info["data"])] if info.get("data") else []), paths.downloads_dir())


def engine():
    try:
        return docker_engine.client()
    except docker_engine.EngineUnavailable as e:
        raise ArctlError(str(e)) from None


def pool(cfg: settings.Settings, limits=None):
    """The engines of arctl.toml's [[engines]] (the local engine alone by default), as one pool of job slots."""
    from arctl.sandbox import pool as sandbox_pool

    return sandbox_pool.build(list(cfg.engines), (limits or cfg.limits()).concurrency)


def ensure_image(engine, base: str, wheelhouse: Path | None, force: bool = False) -> tuple[str, str]:
    tag = sandbox_image.image_tag()
    if force or sandbox_image.find(engine, tag) is None:
        console.print(f"Building the sandbox image [bold]{tag}[/] from {base}"
                      + (f" with wheels from {wheelhouse}" if wheelhouse else "") + " …", highlight=False)
    try:
        with console.status("building", spinner="dots") as status:
            tag, image_id, built = sandbox_image.ensure(
                engine, base, wheelhouse, force, progress=lambda line: status.update(Text(line[:100], style="dim")))
    except sandbox_image.BuildFailed as e:
        raise ArctlError(str(e)) from None
    if built:
        console.print(f"Built {tag} ({image_id[:19]})", highlight=False)
    return tag, image_id


