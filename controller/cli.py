"""The `arctl` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from arctl import __version__, evaluate as evaluation, paths, prepare as preparation, state, tasks
from arctl.errors import ArctlError
from arctl.sandbox import image as sandbox_image
from arctl.sandbox import runner
from arctl.sandbox.policy import MiB, Limits

console = Console(stderr=True)
ARTIFACT = Path(__file__).resolve().parent / "artifact"

base_option = click.option(
    "--base", envvar="ARCTL_BASE_IMAGE", default=sandbox_image.DEFAULT_BASE, show_default=True,
    help="Base image of the sandbox (env ARCTL_BASE_IMAGE). Any image with python3 and venv.")
wheelhouse_option = click.option(
    "--wheelhouse", envvar="ARCTL_WHEELHOUSE", type=click.Path(file_okay=False, path_type=Path),
    help="Build offline from the wheels in this directory (env ARCTL_WHEELHOUSE); see `arctl image wheelhouse`.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arctl")
def main():
    """Unattended, tamper-proof autoresearch for tabular ML.

    An agent proposes train.py; arctl fits it in locked-down containers that never see the
    labels they are scored on, scores it on the host, and keeps only real improvements.

    \b
    Typical session:
      arctl prepare              data, sandbox image, baseline sanity check
      arctl eval train.py        evaluate one candidate (a file or a git revision)
    """


def _engine():
    try:
        return runner.client()
    except runner.EngineUnavailable as e:
        raise ArctlError(str(e)) from None


def _ensure_image(engine, base: str, wheelhouse: Path | None, force: bool = False) -> tuple[str, str]:
    tag = sandbox_image.image_tag()
    found = None if force else sandbox_image.find(engine, tag)
    if found is not None:
        return tag, found.id
    console.print(f"Building the sandbox image [bold]{tag}[/] from {base}"
                  + (f" with wheels from {wheelhouse}" if wheelhouse else "") + " …")
    try:
        with console.status("building", spinner="dots") as status:
            tag, image_id = sandbox_image.build(
                engine, base, wheelhouse, progress=lambda line: status.update(f"[dim]{line[:100]}"))
    except sandbox_image.BuildFailed as e:
        raise ArctlError(str(e)) from None
    console.print(f"Built {tag} ({image_id[:19]})")
    return tag, image_id


@main.command()
@click.option("--task", "task_name", default="heart", show_default=True, help="Built-in task to prepare.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path),
              help="Local copy of the task's data file instead of downloading it (sha256 is checked).")
@base_option
@wheelhouse_option
@click.option("--check/--no-check", default=True, show_default=True,
              help="Evaluate the workspace's train.py (or the shipped baseline) once as a sanity check.")
def prepare(task_name, data, base, wheelhouse, check):
    """Prepare the task: data split and fold plan, sandbox image, baseline check.

    Test labels are stored host-side under ARCTL_HOME, outside the workspace, and are never
    mounted into a container. Re-running with the same data is instant.
    """
    workspace = paths.workspace_root()
    spec = tasks.get(task_name)
    task = preparation.prepare(spec, data)
    console.print(f"Task [bold]{spec.name}[/]: {task.n_train} train rows in {spec.folds} folds, "
                  f"{task.n_test} sealed test rows ({task.root})")
    engine = _engine()
    tag, image_id = _ensure_image(engine, base, wheelhouse)
    state.save(workspace, task, tag, image_id)
    if check:
        baseline = workspace / "train.py"
        source = baseline.read_bytes() if baseline.is_file() else (ARTIFACT / "train.py").read_bytes()
        with console.status("baseline sanity check in the sandbox"):
            result = evaluation.evaluate(source, task, tag, engine=engine)
        _print_summary(result, "baseline" if not baseline.is_file() else str(baseline))
        if result.verdict != "ok":
            raise ArctlError("the baseline did not evaluate cleanly; see the reason above")
    console.print(f"Prepared {workspace}")


def _read_candidate(target: str) -> tuple[bytes, str]:
    path = Path(target)
    if path.is_file():
        return path.read_bytes(), str(path)
    if path.exists():
        raise ArctlError(f"{target} is not a file")
    try:
        out = subprocess.run(["git", "show", f"{target}:./train.py"], capture_output=True, check=True)
    except FileNotFoundError:
        raise ArctlError(f"{target} is not a file, and git is not installed to read it as a revision") from None
    except subprocess.CalledProcessError as e:
        raise ArctlError(f"{target} is neither a file nor a git revision with a train.py: "
                         f"{e.stderr.decode(errors='replace').strip()}") from None
    return out.stdout, f"{target}:train.py"


@main.command(name="eval")
@click.argument("target", default="train.py")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON on stdout.")
@click.option("--with-test", is_flag=True, help="Also fit on all training rows and score the sealed test set; "
              "the test score is stored host-side, not printed.")
@click.option("--deadline", type=float, help="Wall-clock seconds for the whole candidate [task budget].")
@click.option("--memory", type=int, default=2048, show_default=True, help="Memory limit per job, MiB.")
@click.option("--cpus", type=float, default=1.0, show_default=True, help="CPUs per job container.")
def eval_command(target, as_json, with_test, deadline, memory, cpus):
    """Evaluate TARGET (a train.py file or a git revision) in the sandbox.

    Every fold is a fresh container that holds that fold's training rows with labels and its
    validation rows without them; the host computes the metric. Exit status is 0 when the
    verdict is ok, 1 otherwise.
    """
    workspace = paths.workspace_root()
    task, tag = state.load(workspace)
    source, label = _read_candidate(target)
    limits = Limits(deadline=deadline or task.spec.budget_seconds, memory=memory * MiB, cpus_per_job=cpus)
    engine = _engine()
    if sandbox_image.find(engine, tag) is None:
        raise ArctlError(f"the sandbox image {tag} is missing: run `arctl prepare` again")
    with console.status(f"evaluating {label} in {limits.concurrency} concurrent containers"):
        result = evaluation.evaluate(source, task, tag, limits, with_test=with_test, engine=engine)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_summary(result, label)
    sys.exit(0 if result.verdict == "ok" else 1)


def _print_summary(result: evaluation.Evaluation, label: str) -> None:
    out = Console()
    out.print(f"[bold]{label}[/]  {result.hypothesis or '(no HYPOTHESIS)'}", highlight=False)
    table = Table()
    table.add_column("job")
    table.add_column("verdict")
    table.add_column(result.metric, justify="right")
    table.add_column("seconds", justify="right")
    for name, job in result.jobs.items():
        value = result.fold_scores.get(name)
        shown = f"{value:.4f}" if value is not None else ("sealed" if name == preparation.TEST_JOB and result.test_sealed else "")
        table.add_row(name, job["verdict"], shown, f"{job['seconds']:.1f}")
    out.print(table)
    if result.verdict == "ok":
        out.print(f"verdict [green]ok[/]  mean {result.metric} [bold]{result.mean:.4f}[/]  "
                  f"wall {result.seconds:.1f} s")
    else:
        out.print(f"verdict [red]{result.verdict}[/]  {result.reason}  wall {result.seconds:.1f} s")
        if result.stderr_tail:
            out.print("[dim]last lines of stderr:[/]")
            out.print(result.stderr_tail, markup=False, highlight=False)
    if result.test_sealed:
        out.print("test score sealed host-side (not shown)")


@main.group()
def image():
    """Build the sandbox image, or prepare wheels to build it offline."""


@image.command(name="build")
@base_option
@wheelhouse_option
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
def image_build(base, wheelhouse, force):
    """Build the sandbox image (prints its tag on stdout)."""
    tag, image_id = _ensure_image(_engine(), base, wheelhouse, force)
    click.echo(tag)


@image.command(name="wheelhouse")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def image_wheelhouse(dest):
    """Download the image's pinned wheels into DEST, for offline or air-gapped builds."""
    try:
        sandbox_image.wheelhouse(dest)
    except subprocess.CalledProcessError as e:
        raise ArctlError(f"pip could not download the wheels (exit {e.returncode}); see its output above") from None
    console.print(f"Wheels in {dest}; build with `arctl image build --wheelhouse {dest}`")
