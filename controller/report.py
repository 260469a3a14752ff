"""`arctl report`: a plot and a self-contained Markdown summary of a run."""

from __future__ import annotations

from pathlib import Path

import git
import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402

FAILED = ("CRASHED", "TIMEOUT", "OOM", "INVALID", "REJECTED", "AGENT_ERROR", "TRIPWIRE")


def plot(rows: list[dict], metric: str, greater_is_better: bool, path: Path, title: str) -> int:
    """Every iteration's validation metric, the running best, kept ones marked, failures marked.

    Returns the number of iterations plotted (also stored in the PNG as the text chunk arctl:points).
    """
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    scored = [r for r in rows if r.get("val") is not None]
    best, line = None, []
    for r in rows:
        if r["status"] in ("BASELINE", "KEPT"):
            best = r["val"]
        line.append(best)
    ax.step([r["iter"] for r in rows], line, where="post", color="tab:blue", label="best so far")
    plain = [r for r in scored if r["status"] not in ("BASELINE", "KEPT")]
    kept = [r for r in scored if r["status"] in ("BASELINE", "KEPT")]
    ax.scatter([r["iter"] for r in plain], [r["val"] for r in plain], color="0.6", s=22, label="discarded", zorder=3)
    ax.scatter([r["iter"] for r in kept], [r["val"] for r in kept], color="tab:green", s=60, marker="*",
               label="kept", zorder=4)
    failed = [r for r in rows if r["status"] in FAILED and r.get("val") is None]
    if failed:
        floor = min([r["val"] for r in scored] or [0.0])
        ax.scatter([r["iter"] for r in failed], [floor] * len(failed), color="tab:red", marker="x", s=40,
                   label="crashed / timeout / invalid", zorder=4)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"validation {metric} ({'higher' if greater_is_better else 'lower'} is better)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"arctl:points": str(len(rows))})
    plt.close(fig)
    return len(rows)


def markdown(repo: git.Repo, name: str, meta: dict, rows: list[dict], png: Path) -> str:
    metric = meta.get("metric", "metric")
    accept = meta.get("accept", {})
    kept = [r for r in rows if r["status"] == "KEPT"]
    best = ([r for r in rows if r["status"] in ("BASELINE", "KEPT")] or [None])[-1]
    baseline = rows[0] if rows and rows[0]["status"] == "BASELINE" else None
    rule = (f"noise: keep if the mean paired per-fold gain > max({accept.get('min_delta')}, "
            f"{accept.get('z')} × its standard error)" if accept.get("rule") == "noise" else "strict: keep any mean gain")
    out = [f"# arctl run `{name}`", "",
           f"![validation {metric} per iteration]({png.name})", "",
           f"- iterations: {len(rows)}, kept: {len(kept)}",
           f"- baseline {metric}: {baseline['val']:.4f}" if baseline else "- baseline: none",
           f"- best {metric}: {best['val']:.4f} (iteration {best['iter']}, `{best['commit'][:10]}`)" if best else "- best: none",
           f"- time: {sum(r.get('seconds', 0) for r in rows):.0f} s (sandbox {sum(r.get('eval_seconds', 0) for r in rows):.0f} s, "
           f"agent {sum(r.get('agent_seconds', 0) for r in rows):.0f} s), agent cost ${sum(r.get('cost_usd', 0) for r in rows):.4f}",
           f"- acceptance rule: {rule}",
           f"- stopped: {meta['stops'][-1]['reason']}" if meta.get("stops") else "- stopped: (still running or killed)",
           "- test metric: sealed (see `arctl report --reveal-test`)", "",
           "## Iterations", "",
           f"| iter | commit | {metric} | Δ | margin | status | seconds | hypothesis |",
           "|---:|---|---:|---:|---:|---|---:|---|"]
    fmt = lambda v, spec: "" if v is None else format(v, spec)  # noqa: E731
    for r in rows:
        hyp = (r.get("hypothesis") or "").replace("|", "\\|")
        out.append(f"| {r['iter']} | `{(r.get('commit') or '')[:8]}` | {fmt(r.get('val'), '.4f')} | "
                   f"{fmt(r.get('delta'), '+.4f')} | {fmt(r.get('margin'), '.4f')} | {r['status']} | "
                   f"{r.get('seconds', 0):.1f} | {hyp} |")
    out += ["", "## Kept hypotheses", ""]
    previous = baseline
    for r in kept:
        diff = repo.git.diff(previous["commit"], r["commit"], "--", "train.py") if previous else ""
        out += [f"### iteration {r['iter']}: {r['hypothesis']}", "",
                f"{metric} {r['val']:.4f} (Δ {r['delta']:+.4f}, margin {r['margin']:.4f}), commit `{r['commit'][:10]}`",
                "", "```diff", diff, "```", ""]
        previous = r
    if not kept:
        out.append("No candidate beat the baseline.")
    return "\n".join(out) + "\n"

