"""python -m bench.workers [--iters 8] [--workers 1 2 4] — iterations per hour of `arctl run --workers N`.

A command agent that takes 10 s per proposal (it sleeps, then writes the baseline train.py with another C,
so every candidate costs the same to evaluate) runs on the heart task once per setting, one setting after
the other in one invocation, each in its own fresh workspace. Iterations per hour are counted from the
baseline's row to the last row of the run's ledger; the figures are ratios against --workers 1 from the
same invocation (never absolute times). Appends a section to docs/benchmarks.md unless --no-write.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from arctl import tasks
from bench import sandbox

HERE = Path(__file__).resolve().parent
THINK = 10  # seconds per proposal
AGENT = """set -e
n=1; while ! mkdir "{d}/call-$n" 2>/dev/null; do n=$((n+1)); done
sleep {think}
c=$(awk "BEGIN {{print 0.05 + 0.9 * (($n * 37) % 100) / 100}}")
sed -i -E "s/(C=[0-9.]+, )?max_iter=1000\\)/C=$c, max_iter=1000)/" train.py
sed -i "s/^HYPOTHESIS = .*/HYPOTHESIS = \\"C=$c (proposal $n)\\"/" train.py
"""


def arctl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "arctl", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"arctl {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def one_setting(root: Path, workers: int, iters: int) -> dict:
    ws = root / f"w{workers}"
    arctl("init", str(ws), cwd=root)
    arctl("prepare", "--data", str(tasks.locate_data(tasks.HEART)), "--no-check", cwd=ws)
    agent = root / f"agent-w{workers}"
    agent.mkdir()
    (agent / "agent.sh").write_text(AGENT.format(d=agent, think=THINK))
    arctl("run", "bench", "--workers", str(workers), "--max-iters", str(iters + 1), "--agent-command",
          f"sh {agent}/agent.sh", "--agent-path", f"{agent}:rw", cwd=ws)
    rows = [json.loads(line) for line in (ws / "runs" / "bench" / "ledger.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "event" not in r]
    span = rows[-1]["time"] - rows[0]["time"]  # from the baseline's row to the last
    return {"workers": workers, "iterations": len(rows) - 1, "per_hour": (len(rows) - 1) * 3600 / span,
            "statuses": [r["status"] for r in rows[1:]],
            "agent": statistics.fmean(r["agent_seconds"] for r in rows[1:]),
            "eval": statistics.fmean(r["eval_seconds"] for r in rows[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--iters", type=int, default=8, help="candidates per setting (after the baseline)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sandbox("arctl-bench-workers-")
    root = Path(tempfile.mkdtemp(prefix="arctl-bench-workers-ws-"))
    results = []
    for w in args.workers:
        results.append(one_setting(root, w, args.iters))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    one = next((r for r in results if r["workers"] == 1), results[0])
    lines = [f"| {r['workers']} | {r['iterations']} | {r['per_hour'] / one['per_hour']:.2f}× | "
             f"{r['eval'] / r['agent']:.2f} | {', '.join(sorted(set(r['statuses'])))} |" for r in results]
    text = "\n".join([
        "", f"## 5. Several candidates in flight (measured {datetime.date.today()}, `python -m bench.workers "
        f"--iters {args.iters}`)", "",
        f"`arctl run --workers N` on the heart task with a command agent that takes {THINK} s per proposal "
        "(it sleeps, then writes the baseline with another C, so every candidate costs the same to evaluate); "
        "each setting in its own fresh workspace, one after the other in one invocation. Iterations per hour "
        f"from the baseline's row to the last, as a ratio to --workers {one['workers']}.", "",
        f"| workers | candidates | iterations per hour vs --workers {one['workers']} | mean evaluation / mean agent "
        "time per candidate | outcomes |",
        "|---:|---:|---:|---:|---|",
        *lines, "",
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end (the machine is shared). "
        "With one worker the agent's turn and the evaluation alternate; with N, N agents think while earlier "
        "candidates are evaluated, until the CPUs (the evaluations) are the bottleneck: the evaluation / agent "
        "column shows how evaluations slow down as they share the CPUs.", ""])
    print(text)
    if not args.no_write:
        with open(args.out, "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
