"""Everything arctl shows on a terminal. Text from a candidate or an agent is data, never markup.

Untrusted strings pass `clean` (arctl.untrusted: no escapes or control characters, capped) and
reach rich only as `Text` objects, so `[/]` or `[bold]` in a hypothesis is printed as it is.
"""

from __future__ import annotations

import shutil

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from arctl.ledger import Row, Status
from arctl.untrusted import clean, one_line


def last_error_line(stderr_tail: str) -> str:
    """The line of a traceback that names the error, e.g. "ValueError: could not convert ..."."""
    lines = [line.strip() for line in clean(stderr_tail, 1 << 16).splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("harness:", "File ", "^", "~")):
            return line
    return lines[-1] if lines else ""


def terminal_width(default: int = 160) -> int:
    return shutil.get_terminal_size((default, 24)).columns


STATUS_STYLES = {Status.KEPT: "green", Status.BASELINE: "cyan", Status.DISCARDED: "dim"}
_MARKS = {Status.KEPT: "+", Status.BASELINE: "=", Status.DISCARDED: "-"}


def status_line(row: Row, metric_label: str, width: int | None = None) -> str:
    """The one line per iteration of `arctl run`, cut to the terminal's width."""
    val = f"{metric_label}={row.val:.4f}" if row.val is not None else f"{metric_label}=  -   "
    delta = f" (Δ {row.delta:+.4f} ± {row.spread:.4f})" if row.delta is not None else ""
    line = f"iter {row.iter} | {val}{delta} | {row.status:<10}| {_MARKS.get(row.status, '!')} {one_line(row.hypothesis)}"
    if not row.status.scored and row.reason:
        line += f"  [{one_line(row.reason)}"
        error = last_error_line(row.stderr_tail)
        line += f": {one_line(error)}]" if error else "]"
    if row.notes.startswith("ignored"):
        line += f"  ({one_line(row.notes)})"
    width = width or terminal_width()
    return line if len(line) <= width else line[: width - 1] + "…"


def evaluation(out: Console, result, label: str, test_job: str) -> None:
    """The table `arctl eval` and `arctl prepare` print for one evaluated candidate."""
    out.print(Text.assemble((clean(label, 300), "bold"), "  ", one_line(result.hypothesis) or "(no HYPOTHESIS)"))
    table = Table()
    for col in ("job", "verdict", result.metric, "seconds"):
        table.add_column(col, justify="right" if col in (result.metric, "seconds") else "left")
    for name, job in result.jobs.items():
        value = result.fold_scores.get(name)
        shown = f"{value:.4f}" if value is not None else ("sealed" if name == test_job and result.test_sealed else "")
        table.add_row(Text(name), Text(str(job["verdict"])), shown, f"{job['seconds']:.1f}")
    out.print(table)
    if result.verdict == "ok":
        out.print(Text.assemble("verdict ", ("ok", "green"), f"  mean {result.metric} ",
                                (f"{result.mean:.4f}", "bold"), f"  wall {result.seconds:.1f} s"))
    else:
        out.print(Text.assemble("verdict ", (str(result.verdict), "red"), "  ", one_line(result.reason, 500),
                                f"  wall {result.seconds:.1f} s"))
        if result.stderr_tail:
            out.print(Text("last lines of stderr:", style="dim"))
            out.print(Text(clean(result.stderr_tail, 8192)))
    if result.test_sealed:
        out.print("test score sealed host-side (not shown)")


def status(out: Console, s: dict, name: str) -> None:
    """The table `arctl status` prints from ledger.summary."""
    table = Table(title=Text(f"run {clean(name, 100)}: {s['iterations']} iterations, {s['kept']} kept"),
                  title_justify="left", box=box.SIMPLE_HEAD)
    for col, justify in (("iter", "right"), ("commit", "left"), (str(s["metric"]), "right"), ("Δ", "right"),
                         ("margin", "right"), ("status", "left"), ("s", "right")):
        table.add_column(col, justify=justify, no_wrap=True, min_width={"status": 10, "Δ": 7, "margin": 6}.get(col))
    table.add_column("hypothesis", no_wrap=True, overflow="ellipsis", min_width=20)
    fmt = lambda v, spec: "" if v is None else format(v, spec)
    room = max(20, out.width - 80)  # a long hypothesis must not squeeze the numbers out of the table
    for r in s["rows"]:
        status_ = Status(r["status"])
        table.add_row(str(r["iter"]), (r["commit"] or "")[:8], fmt(r["val"], ".4f"), fmt(r["delta"], "+.4f"),
                      fmt(r["margin"], ".4f"), str(status_), fmt(r["seconds"], ".1f"), Text(one_line(r["hypothesis"], room)),
                      style=STATUS_STYLES.get(status_, "red"))
    out.print(table)
    best = s["best"]
    out.print(f"best: iteration {best['iter']} ({best['commit'][:10]}) {s['metric']} {best['val']:.4f}"
              if best else "best: none yet", highlight=False)
    last = f"; last stop: {one_line(s['stops'][-1]['reason'])}" if s["stops"] else ""
    out.print(Text(f"time {s['seconds']:.0f} s, agent cost ${s['cost_usd']:.4f}{last}"))
    if s.get("data_lint"):
        out.print(Text("data lint at preparation: " + "; ".join(map(one_line, s["data_lint"]))))


def verify_check(out: Console, check) -> None:
    mark = ("reproduced", "green") if check.ok else ("DOES NOT REPRODUCE", "red")
    diff = f" (max diff {check.max_diff:.3g})" if check.max_diff is not None else ""
    out.print(Text.assemble(f"iter {check.iter} {check.commit[:10]}: ", mark, diff, " ", one_line(check.detail)))
    for key, (was, now) in check.differed.items():
        out.print(Text(f"    {key} differed: recorded {one_line(str(was))}, now {one_line(str(now))}"))


def reveal(out: Console, event: dict, metric: str, n_test: int) -> None:
    table = Table(title=f"sealed test {metric} — revealed", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("iter", "commit", "validation", "test", "tried", "hypothesis"):
        table.add_column(col)
    for r in event["revealed"]:
        table.add_row(str(r["iter"]), r["commit"][:10], f"{r['val']:.4f}", f"{r['test']:.4f}",
                      str(r.get("tried", r["iter"] + 1)), Text(one_line(r["hypothesis"])))
    out.print(table)
    out.print(f"{event['tried']} candidates were tried to find these. The best validation score of many tries is "
              f"optimistic; the test set ({n_test} rows) was not used for any decision. This reveal is recorded "
              f"in the ledger (reveal number {event['number']}).")


def doctor(out: Console, checks) -> None:
    for c in checks:
        out.print(Text.assemble(("ok " if c.ok else "NO ", "green" if c.ok else "red"), f" {c.what}: ",
                                one_line(c.detail, 1000), f"\n     → {c.fix}" if c.fix and not c.ok else ""))
