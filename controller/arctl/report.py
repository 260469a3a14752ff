"""`arctl report`: a plot and a self-contained Markdown summary of a run, and the reveal of sealed test scores."""

from __future__ import annotations

import re
import time
from pathlib import Path

import git
import matplotlib

from arctl import evaluate, repository
from arctl.display import clean, one_line
from arctl.errors import ArctlError
from arctl.ledger import Ledger, Row, Status

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402


def plot(rows: list[Row], metric: str, greater_is_better: bool, path: Path, title: str) -> int:
    """Every iteration's validation metric, the running best, kept ones marked, failures marked.

    Returns the number of iterations plotted (also stored in the PNG as the text chunk arctl:points).
    """
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    scored = [r for r in rows if r.val is not None]
    best, line = None, []
    for r in rows:
        if r.status.keeps:
            best = r.val
        line.append(best)
    ax.step([r.iter for r in rows], line, where="post", color="tab:blue", label="best so far")
    plain = [r for r in scored if not r.status.keeps]
    kept = [r for r in scored if r.status.keeps]
    ax.scatter([r.iter for r in plain], [r.val for r in plain], color="0.6", s=22, label="discarded", zorder=3)
    ax.scatter([r.iter for r in kept], [r.val for r in kept], color="tab:green", s=60, marker="*",
               label="kept", zorder=4)
    failed = [r for r in rows if r.val is None]
    if failed:
        floor = min([r.val for r in scored] or [0.0])
        ax.scatter([r.iter for r in failed], [floor] * len(failed), color="tab:red", marker="x", s=40,
                   label="crashed / timeout / invalid", zorder=4)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"validation {metric} ({'higher' if greater_is_better else 'lower'} is better)")
    ax.set_title(clean(title, 100), usetex=False)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"arctl:points": str(len(rows))})
    plt.close(fig)
    return len(rows)


def _md(text: str | None) -> str:
    """Candidate text inside a Markdown table cell or heading: one line, no markup of its own."""
    return "".join("\\" + c if c in "\\`*_[]<>|#!" else c for c in one_line(text, 300))


def markdown(repo: git.Repo, name: str, meta: dict, rows: list[Row], png: Path) -> str:
    metric = meta.get("metric", "metric")
    accept = meta.get("accept", {})
    kept = [r for r in rows if r.status is Status.KEPT]
    best = ([r for r in rows if r.status.keeps] or [None])[-1]
    baseline = rows[0] if rows and rows[0].status is Status.BASELINE else None
    rule = (f"noise: keep if the mean paired per-fold gain > max({accept.get('min_delta')}, "
            f"{accept.get('z')} × its standard error)" if accept.get("rule") == "noise" else "strict: keep any mean gain")
    out = [f"# arctl run `{name}`", "",
           f"![validation {metric} per iteration]({png.name})", "",
           f"- iterations: {len(rows)}, kept: {len(kept)}",
           f"- baseline {metric}: {baseline.val:.4f}" if baseline else "- baseline: none",
           f"- best {metric}: {best.val:.4f} (iteration {best.iter}, `{best.commit[:10]}`)" if best else "- best: none",
           f"- time: {sum(r.seconds for r in rows):.0f} s (sandbox {sum(r.eval_seconds for r in rows):.0f} s, "
           f"agent {sum(r.agent_seconds for r in rows):.0f} s), agent cost ${sum(r.cost_usd for r in rows):.4f}",
           f"- acceptance rule: {rule}",
           f"- stopped: {_md(meta['stops'][-1]['reason'])}" if meta.get("stops") else "- stopped: (still running or killed)",
           "- test metric: sealed (see `arctl report --reveal-test`)", "",
           "## Iterations", "",
           f"| iter | commit | {metric} | Δ | margin | status | seconds | hypothesis |",
           "|---:|---|---:|---:|---:|---|---:|---|"]
    fmt = lambda v, spec: "" if v is None else format(v, spec)  # noqa: E731
    for r in rows:
        out.append(f"| {r.iter} | `{(r.commit or '')[:8]}` | {fmt(r.val, '.4f')} | {fmt(r.delta, '+.4f')} | "
                   f"{fmt(r.margin, '.4f')} | {r.status} | {r.seconds:.1f} | {_md(r.hypothesis)} |")
    out += ["", "## Kept hypotheses", ""]
    previous = baseline
    for r in kept:
        diff = repo.git.diff(previous.commit, r.commit, "--", "train.py") if previous else ""
        fence = "`" * max(3, 1 + max(map(len, re.findall("`+", diff)), default=0))  # no line of the diff closes it
        out += [f"### iteration {r.iter}: {_md(r.hypothesis)}", "",
                f"{metric} {r.val:.4f} (Δ {r.delta:+.4f}, margin {r.margin:.4f}), commit `{r.commit[:10]}`",
                "", f"{fence}diff", clean(diff, 1 << 20), fence, ""]
        previous = r
    if not kept:
        out.append("No candidate beat the baseline.")
    return "\n".join(out) + "\n"



def reveal(repo: git.Repo, ledger: Ledger, task, image: str, limits, engine, progress=lambda row: None) -> dict:
    """Score the baseline and every kept commit on the sealed test set (once each), and record the reveal.

    Refused when nothing was kept: then there is no selection to report on, and the test set stays sealed.
    """
    rows = ledger.rows
    if not any(r.status is Status.KEPT for r in rows):
        raise ArctlError("this run has no kept commit: there is nothing to reveal (the sealed test stays sealed)")
    sealed = {r["candidate_sha256"]: r["test"] for r in evaluate.sealed_results(task)}
    revealed = []
    for r in (r for r in rows if r.status.keeps):
        if r.candidate_sha256 not in sealed:
            progress(r)
            result = evaluate.evaluate(repository.train_py_at(repo, r.commit), task, image, limits,
                                       with_test=True, engine=engine)
            sealed = {x["candidate_sha256"]: x["test"] for x in evaluate.sealed_results(task)}
            if result.candidate_sha256 not in sealed:
                raise ArctlError(f"iteration {r.iter} did not evaluate cleanly on the test set: {result.reason}")
        revealed.append({"iter": r.iter, "commit": r.commit, "val": r.val, "test": sealed[r.candidate_sha256],
                         "hypothesis": r.hypothesis, "tried": r.tried or r.iter + 1})  # selected among this many
    event = {"event": "reveal", "time": time.time(), "tried": len(rows), "revealed": revealed}
    ledger.append_event(event)
    return {**event, "number": sum(e.get("event") == "reveal" for e in ledger.events)}
