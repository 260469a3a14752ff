"""`arctl run`, `status`, `verify` and `report`: the commands about a run."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.text import Text

from arctl import clitools as tools
from arctl import display, feedback, ledger, paths, settings
from arctl import progress as live_progress
from arctl.errors import ArctlError


@click.command()
@click.argument("name")
@click.option("--agent", "kind", type=click.Choice(settings.AGENT_KINDS),
              help="Who proposes candidates [arctl.toml agent.kind; auto = claude with ANTHROPIC_API_KEY, else compose].")
@click.option("--model", help="Claude model [arctl.toml agent.model].")
@click.option("--agent-command", "command", help="Shell command of an external agent, run in a scratch copy (--agent command).")
@click.option("--agent-path", "agent_paths", multiple=True, metavar="PATH[:rw]",
              help="A host path the jailed command agent may read (PATH) or write (PATH:rw), e.g. its own config; "
              "repeatable, added to arctl.toml agent.paths.")
@click.option("--unjailed-agent", is_flag=True, help="Run a command agent without its bubblewrap jail, with your "
              "full permissions: it can then read the labels. Recorded in every ledger row.")
@click.option("--agent-safe-log", is_flag=True, help="Print each iteration as an agent would see it (outcome codes, "
              "the best rounded to the noise), no job's own output: for runs started by an agent, e.g. /autoresearch.")
@click.option("--accept", "rule", type=click.Choice(settings.RULES),
              help="noise: the paired per-fold gain must clear z standard errors; strict: any gain [noise].")
@click.option("--max-iters", type=click.IntRange(min=1), help="Stop when the run has this many iterations, baseline included.")
@click.option("--max-time", type=float, help="Stop after this many seconds (this invocation).")
@click.option("--max-cost", type=float, help="Stop when agent spend over the run reaches this many US dollars.")
@click.option("--target", type=float, help="Stop when the best validation metric reaches this value.")
@click.option("--patience", type=click.IntRange(min=1), help="Stop after this many iterations without a keep.")
@click.option("--workers", type=click.IntRange(min=1), help="Candidates in flight at once, each judged against the "
              "best when it finishes [arctl.toml run.workers; 1].")
@tools.with_budget
def run(name, kind, model, command, agent_paths, unjailed_agent, agent_safe_log, rule, max_iters, max_time, max_cost, target,
        patience, workers, deadline, memory_mib, cpus_per_job, runtime, isolation):
    """Run the ratchet on branch autoresearch/NAME (created from the current branch, resumed if it exists).

    Each iteration: the agent proposes train.py, arctl checks it, commits it, evaluates it in the
    sandbox, keeps the commit only if it really beats the best, otherwise resets, and appends a row
    to runs/NAME/results.tsv and runs/NAME/ledger.jsonl. Discarded commits stay reachable as
    refs/arctl/NAME/iter-N. Ctrl-C once finishes the current iteration; twice abandons it.
    Leakage tripwire: a validation AUC of 0.99 or more stops the run.
    """
    from arctl import agents, ratchet, stopping

    workspace, cfg = tools.workspace()
    if command and not kind:
        kind = "command"
    paths_ = (*cfg.agent.paths, *agent_paths) if agent_paths else None
    cfg = (cfg.with_agent(kind=kind, model=model, command=command, paths=paths_).with_accept(rule=rule).with_run(workers=workers)
           .with_budget(deadline=deadline, memory_mib=memory_mib, cpus_per_job=cpus_per_job)
           .with_sandbox(runtime=runtime, isolation=isolation))
    task, tag = tools.prepared(workspace)
    if not (workspace / ".git").exists() or not (workspace / "train.py").is_file():
        raise ArctlError(f"{workspace} is not an arctl workspace (no git repository with train.py): see `arctl init`")
    hidden = (paths.home(), workspace, *tools.data_paths(task))  # what a jailed agent must not see
    agent, why = agents.choose(cfg.agent, task_type=task.spec.task_type, jailed=not unjailed_agent, hidden=hidden)
    if unjailed_agent and agent.name == "command":
        tools.console.print("[red]warning[/]: the command agent runs unjailed (--unjailed-agent): it can read the "
                            "labels; every ledger row of this run records it", highlight=False)
    accept = cfg.accept
    tools.console.print(f"agent: [bold]{agent.name}[/] ({why}); acceptance: {accept.rule}"
                  + (f" (z={accept.z:g}, min_delta={accept.min_delta:g})" if accept.rule == "noise" else ""),
                  highlight=False)
    rules = stopping.StopRules(max_iters=max_iters, max_time=max_time, max_cost=max_cost, target=target,
                               patience=patience)
    out = Console(highlight=False, soft_wrap=True)
    label = "val_" + {"roc_auc": "auc"}.get(task.spec.metric, task.spec.metric)
    engines = tools.pool(cfg)
    tracker = live_progress.Tracker(workspace, name, task.spec.folds, label, _rows(workspace, name))
    engines.listeners.append(tracker.job)

    def echo(row):
        if agent_safe_log:
            out.print(Text("\n".join(feedback.render_row(row, feedback.noise_step(loop.ledger.rows[0].folds)))))
            tracker.row(row, "")  # the agent-safe log keeps the exact scores out of every file an agent may read
        else:
            line = display.status_line(row, label)
            out.print(Text(line))
            tracker.row(row, line)

    loop = ratchet.Ratchet(workspace, name, agent, cfg, rules, task, tag, echo=echo,
                           say=lambda line: out.print(Text(display.clean(line))), engine=engines, progress=tracker)
    reason = "ended by an error"
    try:
        with live_progress.LiveLine(out, tracker, enabled=not agent_safe_log):
            reason = loop.run()
    finally:
        tracker.stopped(reason)
    if agent_safe_log:
        best, rows = loop.ledger.best(), loop.ledger.rows
        out.print(Text(f"best so far: {feedback.best_summary(best, rows[0], task.spec.metric)}" if best else "no best"))
    else:
        display.status(_table_console(), ledger.summary(workspace, name), name)


def _rows(workspace, name) -> list:
    try:
        return ledger.open_run(workspace, name)[0].rows
    except ArctlError:
        return []  # a new run


def _table_console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)  # piped output: do not squeeze to 80 columns


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the ledger summary as JSON on stdout.")
@click.option("--watch", is_flag=True, help="Follow the run from another shell until it stops: its new iterations "
              "and what it is doing now (a live line in a terminal, plain lines otherwise).")
def status(name, as_json, watch):
    """Show the iterations of run NAME (the only run, when there is one), the best so far, time and cost,
    and what the data lint found when the task was prepared."""
    workspace, _ = tools.workspace()
    name = name or ledger.only_run(workspace)
    if watch:
        state = live_progress.read(workspace, name)  # a run that has not recorded its baseline yet has no ledger
        metric = ledger.open_run(workspace, name)[1].get("metric", "metric") if state is None else ""
        label = state["metric"] if state else "val_" + {"roc_auc": "auc"}.get(metric, metric)
        lines = lambda ws, n: [display.status_line(r, label) for r in _rows(ws, n)]
        live_progress.watch(workspace, name, Console(highlight=False, soft_wrap=True), lines)
        return
    s = ledger.summary(workspace, name)
    try:
        s["data_lint"] = list(tools.prepared(workspace)[0].findings)
    except ArctlError:
        s["data_lint"] = None  # not prepared (any more) here
    if as_json:
        click.echo(json.dumps(s, indent=2))
    else:
        display.status(_table_console(), s, name)


@click.command()
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
    from arctl import repository
    from arctl import verify as verification

    workspace, cfg = tools.workspace()
    task, tag = tools.prepared(workspace)
    repo = repository.open_repo(workspace)
    branch = verification.run_branch(repo, name)
    ledger_rows = None if from_notes else ledger.open_run(workspace, name)[0].rows
    rows = verification.recorded_rows(repo, ledger_rows, branch, name)
    out = Console(highlight=False, soft_wrap=True)
    checks = verification.verify(repo, rows, task, tag, cfg.limits(), tolerance, engine=tools.engine(),
                                 progress=lambda check: display.verify_check(out, check))
    bad = [c for c in checks if not c.ok]
    if bad:
        out.print(f"{len(bad)} of {len(checks)} kept commits do not reproduce: " + ", ".join(c.commit[:10] for c in bad))
        sys.exit(1)
    out.print(f"all {len(checks)} kept commits reproduce (tolerance {tolerance:g})")


@click.command()
@click.argument("name")
@click.option("--reveal-test", is_flag=True, help="Show the sealed test metric of the baseline and kept commits "
              "(scoring them first if needed), with the number of candidates tried. Recorded in the ledger.")
def report(name, reveal_test):
    """Write runs/NAME/report.png (every iteration, the running best, kept and failed ones marked) and
    runs/NAME/report.md (iterations, kept hypotheses with their diffs, time, cost, acceptance rule)."""
    from arctl import report as reporting
    from arctl import repository

    workspace, cfg = tools.workspace()
    run_ledger, meta = ledger.open_run(workspace, name)
    repo = repository.open_repo(workspace)
    d = ledger.run_dir(workspace, name)
    png, md = d / "report.png", d / "report.md"
    reporting.plot(run_ledger.rows, meta.get("metric", "metric"), meta.get("greater_is_better", True), png,
                   f"arctl run {name}")
    md.write_text(reporting.markdown(repo, name, meta, run_ledger.rows, png))
    tools.console.print(f"wrote {png} and {md}", highlight=False)
    if not reveal_test:
        return
    task, tag = tools.prepared(workspace)
    progress = lambda row: tools.console.print(f"scoring iteration {row.iter} on the sealed test set", highlight=False)
    event = reporting.reveal(repo, run_ledger, task, tag, cfg.limits(), tools.engine(), progress)
    display.reveal(Console(highlight=False), event, task.spec.metric, task.n_test)


