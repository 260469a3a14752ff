"""python -m bench.transfer [--repeats N] [--before /work/main] — the cost of moving files through the
Docker API, before/after, as ratios from one run (never absolute times).

Interleaved on the same machine, for the baseline on the heart task: one plain process fitting every fold
(the reference), this checkout's evaluation (files through put_archive/get_archive), and the evaluation of
another checkout (`--before`, e.g. main with its bind mounts, run with that checkout's own .venv). Each
evaluation is measured cold and as the catalog agent sees it (containers warmed up just before: an instant
agent leaves them no time). Prints a markdown table of median ratios to the plain process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from arctl import evaluate, prepare, tasks
from arctl.artifact import ROOT as ARTIFACT
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image
from arctl.sandbox import runner
from arctl.sandbox.policy import Limits
from bench.__main__ import single_process

ONE = """
import json, sys
from arctl import evaluate, prepare, tasks
from arctl.sandbox import engine as docker_engine, runner
from arctl.sandbox.policy import Limits
task = prepare.prepare(tasks.HEART, tasks.locate_data(tasks.HEART))
engine = docker_engine.client()
limits = Limits(deadline=600)
source = open(sys.argv[1], "rb").read()
warm = runner.warm_up(engine, sys.argv[2], limits, task.spec.folds).result() if sys.argv[3] == "warm" else None
r = evaluate.evaluate(source, task, sys.argv[2], limits, engine=engine, warm=warm)
assert r.verdict == "ok", r.reason
print(json.dumps({"seconds": r.seconds, "folds": r.fold_scores}))
"""


def other_checkout(checkout: Path, candidate: Path, image: str, mode: str) -> dict:
    python = checkout / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", ONE, str(candidate), image, mode], capture_output=True, text=True,
                          cwd=checkout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transfer", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    args = parser.parse_args()
    engine = docker_engine.client()
    image = sandbox_image.image_tag()
    task = prepare.prepare(tasks.HEART, tasks.locate_data(tasks.HEART))
    limits = Limits(deadline=600)
    times: dict[str, list[float]] = {k: [] for k in ("plain", "after cold", "after catalog", "before cold",
                                                      "before catalog")}
    with tempfile.TemporaryDirectory() as d:
        cand = Path(d) / "train.py"
        cand.write_bytes((ARTIFACT / "train.py").read_bytes())
        os.chmod(d, 0o755)
        source = cand.read_bytes()
        for i in range(args.repeats):  # interleaved: the machine's noise hits every side alike
            times["plain"].append(single_process(engine, image, task, cand, float(os.cpu_count() or 1))["seconds"])
            after = evaluate.evaluate(source, task, image, limits, engine=engine)
            times["after cold"].append(after.seconds)
            warm = runner.warm_up(engine, image, limits, task.spec.folds).result()
            times["after catalog"].append(evaluate.evaluate(source, task, image, limits, engine=engine, warm=warm).seconds)
            before = other_checkout(args.before, cand, image, "cold")
            times["before cold"].append(before["seconds"])
            times["before catalog"].append(other_checkout(args.before, cand, image, "warm")["seconds"])
            assert before["folds"] == after.fold_scores, "the two checkouts score the baseline differently"
            print(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), file=sys.stderr,
                  flush=True)
    ratio = {k: statistics.median(v / p for v, p in zip(times[k], times["plain"], strict=True)) for k in times}
    print(f"| evaluation of the baseline (heart, {task.spec.folds} folds, {args.repeats} interleaved rounds) "
          "| × one plain process |\n|---|---|")
    for k in ("before cold", "after cold", "before catalog", "after catalog"):
        print(f"| {k} | {ratio[k]:.2f}x |")


if __name__ == "__main__":
    main()
