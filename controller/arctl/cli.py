"""The `arctl` command line: parses options and delegates; the work is done in the modules it names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from arctl import __version__, cli_runs, display, paths, state, tasks
from arctl import clitools as tools
from arctl import evaluate as evaluation
from arctl import prepare as preparation
from arctl.errors import ArctlError
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image


@click.group(cls=tools.Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arctl")
def main():
    """Unattended, tamper-proof autoresearch for tabular ML.

    An agent proposes train.py; arctl fits it in locked-down containers that never see the
    labels they are scored on, scores it on the host, and keeps only real improvements.

    \b
    Typical session:
      arctl init my-research     a git workspace with train.py, program.md, arctl.toml
      arctl prepare              data, sandbox image, baseline sanity check
      arctl run my-run           the ratchet on branch autoresearch/my-run (resumes)
      arctl status my-run        progress table
      arctl eval train.py        evaluate one candidate (a file or a git revision)
      arctl report my-run        plot + summary; --reveal-test shows the sealed test once
      arctl verify my-run        re-run every kept commit; non-zero exit on mismatch
      arctl doctor               what is set up, what is missing, what to do
    """


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", help="Your data: a CSV or Parquet file, or an http(s) URL. Without it: the built-in heart task.")
@click.option("--target", help="The column to predict (with --data).")
@click.option("--task-type", type=click.Choice(tasks.TASK_TYPES),
              help="Declare the task type [inferred from the target column, and written to arctl.toml].")
@click.option("--metric", help="binary: roc_auc (default), log_loss, accuracy; multiclass: log_loss (default), "
              "balanced_accuracy, roc_auc_ovr; regression: rmse (default), mae, r2.")
@click.option("--group", help="Column of groups (patients, sites...): grouped CV keeps each group on one side.")
@click.option("--id-column", "id_columns", multiple=True, help="A column to drop (an ID); repeatable.")
@click.option("--sha256", help="The data file's sha256, checked on every prepare.")
def init(directory, data, target, task_type, metric, group, id_columns, sha256):
    """Create a research workspace in DIRECTORY: a git repository with the baseline train.py,
    program.md (the agent's standing instructions) and arctl.toml (task, budget, agent, acceptance).

    \b
    arctl init my-research                                   # the built-in heart task
    arctl init my-research --data my.csv --target y          # your own data
    Refuses to overwrite an existing workspace.
    """
    from arctl import workspace

    table = None
    if data or target:
        if not (data and target):
            raise ArctlError("--data and --target go together")
        if not data.startswith(("http://", "https://")):
            data = str(Path(data).resolve())
        table, task_type = workspace.task_table(data, target, task_type, metric, group, id_columns, sha256)
    root = workspace.init(directory, table, task_type or "binary")
    tools.console.print(f"Workspace ready in {root}. Next: cd {directory} && arctl prepare && arctl run NAME", highlight=False)


@main.command()
@click.option("--task", "task_name", help="Built-in task to prepare [arctl.toml task.name, else heart].")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path),
              help="Local copy of the task's data file instead of downloading it (sha256 is checked).")
@tools.base_option
@tools.wheelhouse_option
@click.option("--check/--no-check", default=True, show_default=True,
              help="Evaluate the workspace's train.py (or the shipped baseline) once as a sanity check.")
def prepare(task_name, data, base, wheelhouse, check):
    """Prepare the task: data split and fold plan, sandbox image, baseline check.

    Test labels are stored host-side under ARCTL_HOME, outside the workspace, and are never
    mounted into a container. Re-running with the same data is instant, and repeats what the
    data lint found.
    """
    from arctl.artifact import ROOT as ARTIFACT

    workspace, cfg = tools.workspace()
    spec = tasks.get(task_name) if task_name else tasks.from_settings(cfg.task)
    try:
        task = preparation.prepare(spec, data)
    except preparation.LintFailed as e:
        for finding in e.findings:
            tools.console.print(Text(finding))
        raise ArctlError(f"{e}. Nothing was prepared.") from None
    for finding in task.findings:
        tools.console.print(Text(finding))
    tools.console.print(f"Task [bold]{spec.name}[/]: {task.n_train} train rows in {spec.folds} folds, "
                  f"{task.n_test} sealed test rows ({task.root})", highlight=False)
    engine = tools.engine()
    tag, image_id = tools.ensure_image(engine, base, wheelhouse)
    state.save(workspace, task, tag, image_id)
    if check:
        baseline = workspace / "train.py"
        source = baseline.read_bytes() if baseline.is_file() else (ARTIFACT / "train.py").read_bytes()
        with tools.console.status("baseline sanity check in the sandbox"):
            result = evaluation.evaluate(source, task, tag, cfg.limits(), engine=engine)
        display.evaluation(Console(), result, "baseline" if not baseline.is_file() else str(baseline),
                           preparation.TEST_JOB)
        if result.verdict != "ok":
            raise ArctlError("the baseline did not evaluate cleanly; see the reason above")
    tools.console.print(f"Prepared {workspace}", highlight=False)


@main.command(name="eval")
@click.argument("target", default="train.py")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON on stdout.")
@click.option("--with-test", is_flag=True, help="Also fit on all training rows and score the sealed test set; "
              "the test score is stored host-side, not printed.")
@tools.with_budget
def eval_command(target, as_json, with_test, deadline, memory_mib, cpus_per_job, runtime, isolation):
    """Evaluate TARGET (a train.py file or a git revision) in the sandbox, under the budget of
    arctl.toml (the same as `arctl run`), or the one given here.

    Every fold is a fresh container that holds that fold's training rows with labels and its
    validation rows without them; the host computes the metric. Exit status is 0 when the
    verdict is ok, 1 otherwise.
    """
    from arctl import repository

    workspace, cfg = tools.workspace()
    task, tag = tools.prepared(workspace)
    limits = (cfg.with_budget(deadline=deadline, memory_mib=memory_mib, cpus_per_job=cpus_per_job)
              .with_sandbox(runtime=runtime, isolation=isolation).limits())
    source, label = repository.candidate_source(target)
    engine = tools.engine()
    if sandbox_image.find(engine, tag) is None:
        raise ArctlError(f"the sandbox image {tag} is missing: run `arctl prepare` again")
    with tools.console.status(f"evaluating {display.clean(label, 200)} in {limits.concurrency} concurrent containers"):
        result = evaluation.evaluate(source, task, tag, limits, with_test=with_test, engine=tools.pool(cfg, limits))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        display.evaluation(Console(), result, label, preparation.TEST_JOB)
    sys.exit(0 if result.verdict == "ok" else 1)


@main.group(cls=tools.Group)
def image():
    """Build the sandbox image, make a base for it, or prepare wheels to build it offline."""


@image.command(name="build")
@tools.base_option
@tools.wheelhouse_option
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
def image_build(base, wheelhouse, force):
    """Build the sandbox image (prints its tag on stdout)."""
    tag, _ = tools.ensure_image(tools.engine(), base, wheelhouse, force)
    click.echo(tag)


@image.command(name="push")
def image_push():
    """Load the sandbox image into every engine of arctl.toml's [[engines]] that lacks it (from the first)."""
    _, cfg = tools.workspace()
    engines = tools.pool(cfg)
    tag = sandbox_image.image_tag()
    try:
        for name, what in sandbox_image.push(engines, tag, progress=lambda line: tools.console.print(line, markup=False)):
            click.echo(f"{name}: {what}")
    except (sandbox_image.BuildFailed, docker_engine.EngineUnavailable) as e:
        raise ArctlError(str(e)) from None


@image.command(name="base")
@click.option("--mirror", envvar="ARCTL_DEBIAN_MIRROR", default="http://deb.debian.org/debian", show_default=True,
              help="Debian mirror for debootstrap (env ARCTL_DEBIAN_MIRROR).")
def image_base(mirror):
    """Print a base image for the sandbox that this engine has: python:3.11-slim when a registry
    gives it, else a Debian bookworm with Python made here with debootstrap (needs root)."""
    try:
        say = lambda line: tools.console.print(line, markup=False)
        click.echo(sandbox_image.base_image(tools.engine(), mirror, progress=say))
    except sandbox_image.BuildFailed as e:
        raise ArctlError(str(e)) from None


@image.command(name="wheelhouse")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def image_wheelhouse(dest):
    """Download the image's pinned wheels into DEST, for offline or air-gapped builds."""
    import subprocess

    try:
        sandbox_image.wheelhouse(dest)
    except subprocess.CalledProcessError as e:
        raise ArctlError(f"pip could not download the wheels (exit {e.returncode}); see its output above") from None
    tools.console.print(f"Wheels in {dest}; build with `arctl image build --wheelhouse {dest}`", highlight=False)


@main.command()
def doctor():
    """Check the Docker engine, the sandbox image, the data cache and the agent set-up, and say what to do."""
    from arctl import doctor as checkup

    found = checkup.checks(paths.workspace_root())
    display.doctor(Console(highlight=False, soft_wrap=True), found)
    sys.exit(0 if all(c.ok for c in found) else 1)


for command in (cli_runs.run, cli_runs.status, cli_runs.verify, cli_runs.report):
    main.add_command(command)
