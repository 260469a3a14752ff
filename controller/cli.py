"""The `arctl` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from arctl import __version__, config, paths, state, tasks
from arctl import evaluate as evaluation
from arctl import prepare as preparation
from arctl.errors import ArctlError
from arctl.sandbox import image as sandbox_image
from arctl.sandbox import runner
from arctl.sandbox.policy import MiB, Limits

console = Console(stderr=True, soft_wrap=True)
ARTIFACT = Path(__file__).resolve().parent / "artifact"

base_option = click.option(
    "--base", envvar="ARCTL_BASE_IMAGE", default=sandbox_image.DEFAULT_BASE, show_default=True,
    help="Base image of the sandbox (env ARCTL_BASE_IMAGE). Any image with python3 and venv.")
wheelhouse_option = click.option(
    "--wheelhouse", envvar="ARCTL_WHEELHOUSE", type=click.Path(file_okay=False, path_type=Path),
    help="Build offline from the wheels in this directory (env ARCTL_WHEELHOUSE); see `arctl image wheelhouse`.")


class UsageFailure(click.ClickException):
    exit_code = 2


class Group(click.Group):
    """Turns an ArctlError anywhere below into click's one-line error and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArctlError as e:
            raise UsageFailure(str(e)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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


def _engine():
    try:
        return runner.client()
    except runner.EngineUnavailable as e:
        raise ArctlError(str(e)) from None


def _ensure_image(engine, base: str, wheelhouse: Path | None, force: bool = False) -> tuple[str, str]:
    tag = sandbox_image.image_tag()
    found = None if force else sandbox_image.find(engine, tag)
    if found is not None:
        found.tag(sandbox_image.REPOSITORY, "latest")  # the name compose.yaml uses
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
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", help="Your data: a CSV or Parquet file, or an http(s) URL. Without it: the built-in heart task.")
@click.option("--target", help="The column to predict (with --data).")
@click.option("--task-type", type=click.Choice(["binary", "multiclass", "regression"]),
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
    console.print(f"Workspace ready in {root}. Next: cd {directory} && arctl prepare && arctl run NAME")


@main.command()
@click.option("--task", "task_name", help="Built-in task to prepare [arctl.toml task.name, else heart].")
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
    cfg = config.load(workspace)
    spec = tasks.get(task_name) if task_name else tasks.from_settings(cfg.task)
    try:
        task = preparation.prepare(spec, data, report=lambda message: console.print(message, markup=False))
    except preparation.LintFailed as e:
        raise ArctlError(f"{e}. Nothing was prepared.") from None
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


@main.group(cls=Group)
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


@main.command()
@click.argument("name")
@click.option("--agent", "agent_kind", type=click.Choice(["auto", "claude", "command", "catalog"]),
              help="Who proposes candidates [arctl.toml agent.kind; auto = claude with ANTHROPIC_API_KEY, else catalog].")
@click.option("--model", help="Claude model [arctl.toml agent.model].")
@click.option("--agent-command", help="Shell command of an external agent, run in a scratch copy (--agent command).")
@click.option("--accept", "rule", type=click.Choice(["noise", "strict"]),
              help="noise: the paired per-fold gain must clear z standard errors; strict: any gain [noise].")
@click.option("--max-iters", type=click.IntRange(min=1), help="Stop when the run has this many iterations, baseline included.")
@click.option("--max-time", type=float, help="Stop after this many seconds (this invocation).")
@click.option("--max-cost", type=float, help="Stop when agent spend over the run reaches this many US dollars.")
@click.option("--target", type=float, help="Stop when the best validation metric reaches this value.")
@click.option("--patience", type=click.IntRange(min=1), help="Stop after this many iterations without a keep.")
@click.option("--deadline", type=float, help="Wall-clock seconds per candidate [arctl.toml budget.deadline].")
def run(name, agent_kind, model, agent_command, rule, max_iters, max_time, max_cost, target, patience, deadline):
    """Run the ratchet on branch autoresearch/NAME (created from the current branch, resumed if it exists).

    Each iteration: the agent proposes train.py, arctl checks it, commits it, evaluates it in the
    sandbox, keeps the commit only if it really beats the best, otherwise resets, and appends a row
    to runs/NAME/results.tsv and runs/NAME/ledger.jsonl. Discarded commits stay reachable as
    refs/arctl/NAME/iter-N. Ctrl-C once finishes the current iteration; twice abandons it.
    Leakage tripwire: a validation AUC of 0.99 or more stops the run.
    """
    from arctl import agents, ratchet

    workspace = paths.workspace_root()
    cfg = config.load(workspace)
    for key, value in (("rule", rule), ("model", model), ("command", agent_command), ("deadline", deadline),
                       ("agent", agent_kind)):
        if value is not None:
            setattr(cfg, key, value)
    if agent_command and not agent_kind:
        cfg.agent = "command"
    try:
        task, tag = state.load(workspace)
    except ArctlError:
        raise ArctlError(f"{workspace} is not prepared yet: run `arctl prepare` there first") from None
    if not (workspace / ".git").exists() or not (workspace / "train.py").is_file():
        raise ArctlError(f"{workspace} is not an arctl workspace (no git repository with train.py): see `arctl init`")
    agent, why = agents.choose(cfg.agent, model=cfg.model, command=cfg.command, timeout=cfg.agent_timeout,
                               task_type=task.spec.task_type)
    console.print(f"agent: [bold]{agent.name}[/] ({why}); acceptance: {cfg.rule}"
                  + (f" (z={cfg.z:g}, min_delta={cfg.min_delta:g})" if cfg.rule == "noise" else ""))
    rules = ratchet.StopRules(max_iters=max_iters, max_time=max_time, max_cost=max_cost, target=target,
                              patience=patience)
    out = Console(highlight=False, soft_wrap=True)
    loop = ratchet.Ratchet(workspace, name, agent, cfg, rules, task, tag, echo=lambda line: out.print(line, markup=False),
                           engine=_engine())
    loop.run()
    _status_table(workspace, name)


@main.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the ledger summary as JSON on stdout.")
def status(name, as_json):
    """Show the iterations of run NAME (the only run, when there is one), the best so far, time and cost."""
    workspace = paths.workspace_root()
    name = name or _only_run(workspace)
    if as_json:
        click.echo(json.dumps(_summary(workspace, name), indent=2))
    else:
        _status_table(workspace, name)


def _only_run(workspace: Path) -> str:
    runs = sorted(p.name for p in (workspace / "runs").glob("*") if (p / "ledger.jsonl").exists())
    if len(runs) != 1:
        raise ArctlError("name the run: " + (", ".join(runs) if runs else "there are no runs in this workspace yet"))
    return runs[0]


def _summary(workspace: Path, name: str) -> dict:
    from arctl import ratchet
    from arctl.ledger import Ledger

    d = ratchet.run_dir(workspace, name)
    if not (d / "ledger.jsonl").exists():
        raise ArctlError(f"no run named {name!r} in {workspace}")
    ledger = Ledger(d)
    meta = json.loads((d / "run.json").read_text()) if (d / "run.json").exists() else {}
    best = ledger.best()
    keys = ("iter", "commit", "status", "val", "delta", "margin", "seconds", "cost_usd", "hypothesis", "reason")
    return {
        "name": name, "metric": meta.get("metric"), "accept": meta.get("accept"),
        "iterations": len(ledger.rows), "kept": sum(r["status"] == "KEPT" for r in ledger.rows),
        "best": {"iter": best["iter"], "commit": best["commit"], "val": best["val"]} if best else None,
        "seconds": sum(r.get("seconds", 0.0) for r in ledger.rows),
        "cost_usd": sum(r.get("cost_usd", 0.0) for r in ledger.rows),
        "stops": meta.get("stops", []),
        "rows": [{k: r.get(k) for k in keys} for r in ledger.rows],
    }


def _status_table(workspace: Path, name: str) -> None:
    s = _summary(workspace, name)
    out = Console(width=None if sys.stdout.isatty() else 160)  # piped output: do not squeeze to 80 columns
    table = Table(title=f"run {name}: {s['iterations']} iterations, {s['kept']} kept", title_justify="left",
                  box=box.SIMPLE_HEAD)
    for col, justify in (("iter", "right"), ("commit", "left"), (s["metric"], "right"), ("Δ", "right"),
                         ("margin", "right"), ("status", "left"), ("s", "right")):
        table.add_column(col, justify=justify, no_wrap=True, min_width={"status": 10, "Δ": 7, "margin": 6}.get(col))
    table.add_column("hypothesis", no_wrap=True, overflow="ellipsis", min_width=20)
    styles = {"KEPT": "green", "BASELINE": "cyan", "DISCARDED": "dim"}
    for r in s["rows"]:
        fmt = lambda v, spec: "" if v is None else format(v, spec)  # noqa: E731
        table.add_row(str(r["iter"]), (r["commit"] or "")[:8], fmt(r["val"], ".4f"), fmt(r["delta"], "+.4f"),
                      fmt(r["margin"], ".4f"), r["status"], fmt(r["seconds"], ".1f"), r["hypothesis"],
                      style=styles.get(r["status"], "red"))
    out.print(table)
    best = s["best"]
    out.print(f"best: iteration {best['iter']} ({best['commit'][:10]}) {s['metric']} {best['val']:.4f}" if best else "best: none yet")
    out.print(f"time {s['seconds']:.0f} s, agent cost ${s['cost_usd']:.4f}"
              + (f"; last stop: {s['stops'][-1]['reason']}" if s["stops"] else ""))


def _run_files(workspace: Path, name: str):
    from arctl import ratchet
    from arctl.ledger import Ledger

    d = ratchet.run_dir(workspace, name)
    if not (d / "ledger.jsonl").exists():
        raise ArctlError(f"no run named {name!r} in {workspace} (runs/{name}/ledger.jsonl is missing)")
    meta = json.loads((d / "run.json").read_text()) if (d / "run.json").exists() else {}
    return d, Ledger(d), meta


@main.command()
@click.argument("name")
@click.option("--tolerance", type=float, default=0.0, show_default=True,
              help="Largest per-fold difference accepted. Same image and data reproduce exactly.")
@click.option("--from-notes", is_flag=True, help="Read the expected scores from the git notes (refs/notes/arctl/NAME) "
              "on the run branch instead of the ledger, as in CI on a fresh clone.")
def verify(name, tolerance, from_notes):
    """Re-evaluate every kept commit of run NAME in fresh containers and compare with what was recorded.

    Exits 1 naming each commit that does not reproduce, with the inputs that differ (image id,
    harness hash, data hash, library versions).
    """
    import git

    from arctl import ratchet
    from arctl import verify as verification

    workspace = paths.workspace_root()
    task, tag = state.load(workspace)
    repo = git.Repo(workspace)
    branch = ratchet.BRANCH_PREFIX + name
    if branch not in [h.name for h in repo.heads] and f"origin/{branch}" not in [r.name for r in repo.refs]:
        raise ArctlError(f"there is no branch {branch} in {workspace}")
    if not any(h.name == branch for h in repo.heads):
        branch = f"origin/{branch}"
    ledger_rows = None if from_notes else _run_files(workspace, name)[1].rows
    rows = verification.recorded_rows(repo, ledger_rows, branch, ratchet.notes_ref(name))
    cfg = config.load(workspace)
    limits = Limits(deadline=cfg.deadline, memory=cfg.memory_mib * MiB, cpus_per_job=cfg.cpus_per_job)
    out = Console(highlight=False, soft_wrap=True)

    def show(check):
        mark = "[green]reproduced[/]" if check.ok else "[red]DOES NOT REPRODUCE[/]"
        diff = f" (max diff {check.max_diff:.3g})" if check.max_diff is not None else ""
        out.print(f"iter {check.iter} {check.commit[:10]}: {mark}{diff} {check.detail}")
        for key, (was, now) in check.differed.items():
            out.print(f"    {key} differed: recorded {was}, now {now}", markup=False)

    checks = verification.verify(repo, rows, task, tag, limits, tolerance, engine=_engine(), progress=show)
    bad = [c for c in checks if not c.ok]
    if bad:
        out.print(f"{len(bad)} of {len(checks)} kept commits do not reproduce: " + ", ".join(c.commit[:10] for c in bad))
        sys.exit(1)
    out.print(f"all {len(checks)} kept commits reproduce (tolerance {tolerance:g})")


@main.command()
@click.argument("name")
@click.option("--reveal-test", is_flag=True, help="Show the sealed test metric of the baseline and kept commits "
              "(scoring them first if needed), with the number of candidates tried. Recorded in the ledger.")
def report(name, reveal_test):
    """Write runs/NAME/report.png (every iteration, the running best, kept and failed ones marked) and
    runs/NAME/report.md (iterations, kept hypotheses with their diffs, time, cost, acceptance rule)."""
    import time

    import git

    from arctl import report as reporting

    workspace = paths.workspace_root()
    d, ledger, meta = _run_files(workspace, name)
    rows = ledger.rows
    repo = git.Repo(workspace)
    png = d / "report.png"
    reporting.plot(rows, meta.get("metric", "metric"), meta.get("greater_is_better", True), png,
                   f"arctl run {name}")
    md = d / "report.md"
    md.write_text(reporting.markdown(repo, name, meta, rows, png))
    console.print(f"wrote {png} and {md}")
    if not reveal_test:
        return
    kept = [r for r in rows if r["status"] in ("BASELINE", "KEPT")]
    if not any(r["status"] == "KEPT" for r in rows):
        raise ArctlError(f"run {name} has no kept commit: there is nothing to reveal (the sealed test stays sealed)")
    task, tag = state.load(workspace)
    engine = _engine()
    sealed = {r["candidate_sha256"]: r["test"] for r in evaluation.sealed_results(task)}
    out = Console(highlight=False)
    table = Table(title=f"sealed test {task.spec.metric} — revealed", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("iter", "commit", "validation", "test", "hypothesis"):
        table.add_column(col)
    revealed = []
    for r in kept:
        if r["candidate_sha256"] not in sealed:
            source = repo.commit(r["commit"]).tree["train.py"].data_stream.read()
            with console.status(f"scoring iteration {r['iter']} on the sealed test set"):
                result = evaluation.evaluate(source, task, tag, with_test=True, engine=engine)
            sealed = {x["candidate_sha256"]: x["test"] for x in evaluation.sealed_results(task)}
            if result.candidate_sha256 not in sealed:
                raise ArctlError(f"iteration {r['iter']} did not evaluate cleanly on the test set: {result.reason}")
        test = sealed[r["candidate_sha256"]]
        revealed.append({"iter": r["iter"], "commit": r["commit"], "val": r["val"], "test": test})
        table.add_row(str(r["iter"]), r["commit"][:10], f"{r['val']:.4f}", f"{test:.4f}", r["hypothesis"])
    tried = len(rows)
    ledger.append_event({"event": "reveal", "time": time.time(), "tried": tried, "revealed": revealed})
    out.print(table)
    out.print(f"{tried} candidates were tried to find these. The best validation score of many tries is optimistic; "
              f"the test set ({task.n_test} rows) was not used for any decision. This reveal is recorded in the ledger"
              + (f" (reveal number {sum(e['event'] == 'reveal' for e in ledger.events)})." if ledger.events else "."))


@main.command()
def doctor():
    """Check the Docker engine, the sandbox image, the data cache and the agent set-up, and say what to do."""
    import shutil as _shutil

    out = Console(highlight=False, soft_wrap=True)
    problems = 0

    def line(ok: bool, what: str, detail: str, fix: str = ""):
        nonlocal problems
        problems += not ok
        out.print(f"[{'green' if ok else 'red'}]{'ok ' if ok else 'NO '}[/] {what}: {detail}"
                  + (f"\n     → {fix}" if fix and not ok else ""))

    workspace = paths.workspace_root()
    try:
        engine = runner.client()
        info = engine.version()
        line(True, "Docker engine", f"{info.get('Version')} (API {info.get('ApiVersion')})")
    except runner.EngineUnavailable as e:
        engine = None
        line(False, "Docker engine", str(e).split(". ")[0], "start it (`sudo systemctl start docker`, or `dockerd &`)")
    tag = sandbox_image.image_tag()
    if engine is not None:
        found = sandbox_image.find(engine, tag)
        if found is None:
            line(False, "sandbox image", f"{tag} is missing", "run `arctl prepare` or `arctl image build`")
        else:
            libs = sandbox_image.versions(engine, found.id, paths.home() / "images")
            line(True, "sandbox image", f"{tag} {found.id[:19]} from {found.labels.get('org.arctl.base', '?')}; "
                 + ", ".join(f"{k} {v}" for k, v in libs.items()))
    compose = _shutil.which("docker-compose") or (_shutil.which("docker") and "docker compose")
    line(bool(_shutil.which("docker-compose")), "docker-compose", compose or "not found",
         "install Debian's docker-compose or the compose plugin, for `docker-compose run --rm grade`")
    try:
        task, image_tag = state.load(workspace)
        line(True, "prepared data", f"task {task.spec.name} at {task.root} ({task.n_train} train, "
             f"{task.n_test} sealed test rows); data hash {task.jobs_sha256()[:12]}")
        if image_tag != tag:
            line(False, "workspace image", f"prepared with {image_tag}, current is {tag}", "run `arctl prepare` again")
    except ArctlError as e:
        line(False, "prepared data", str(e), "run `arctl prepare` in the workspace")
    cfg = config.load(workspace)
    key = bool(os.environ.get("ANTHROPIC_API_KEY"))
    agent = cfg.agent if cfg.agent != "auto" else ("claude" if key else "catalog")
    if agent == "claude":
        line(key, "agent", f"claude, model {cfg.model}" + ("" if key else ", but ANTHROPIC_API_KEY is not set"),
             "export ANTHROPIC_API_KEY, or choose --agent catalog")
    elif agent == "command":
        line(bool(cfg.command.strip()), "agent", f"command: {cfg.command or '(none)'}", "set agent.command in arctl.toml")
    else:
        line(True, "agent", "catalog (offline)" + ("" if key else "; set ANTHROPIC_API_KEY to use Claude"))
    sys.exit(1 if problems else 0)
