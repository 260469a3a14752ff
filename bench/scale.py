"""python -m bench.scale [--sizes 20000 100000 400000] — the cost of isolation as the data grows.

A synthetic binary task with 24 numeric columns at each size. For the baseline (logistic regression) and
LightGBM: one plain process fitting every fold and scoring itself (the reference, in one container of the
same image) against arctl's cold evaluation (one hardened container per fold, files through the Docker API,
host-side scoring, the image's pre-read included, as `arctl eval` does), side by side in one run; and
`arctl prepare` against the plain baseline. Prints a markdown table of ratios (never absolute times) beside
the figures the issue measured before files moved through the Docker API.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification

from arctl import evaluate, prepare, tasks
from arctl.artifact import ROOT as ARTIFACT
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image
from arctl.sandbox import preread
from arctl.sandbox.policy import Limits
from bench.__main__ import single_process

CANDIDATES = {"baseline (LR)": ARTIFACT / "train.py",
              "LightGBM": ARTIFACT / "catalog" / "classification" / "03_lightgbm.py"}
# Measured before (issue 12, bind mounts): arctl ÷ one plain process.
BEFORE = {("baseline (LR)", 20_000): 2.3, ("baseline (LR)", 400_000): 1.4,
          ("LightGBM", 20_000): 1.4, ("LightGBM", 400_000): 0.83}


def synthetic(n: int, folder: Path) -> tasks.TaskSpec:
    X, y = make_classification(n_samples=n, n_features=24, n_informative=8, n_redundant=4, flip_y=0.05,
                               random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(24)]).round(5)
    frame["y"] = y
    path = folder / f"scale{n}.csv"
    frame.to_csv(path, index=False)
    return tasks.from_settings({"name": f"scale{n}", "data": str(path), "target": "y"})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 400_000])
    args = parser.parse_args()
    engine, image = docker_engine.client(), sandbox_image.image_tag()
    cpus = float(os.cpu_count() or 1)
    rows = []
    preread.preread(engine, image, Limits())  # the first read of a cold image is no cost of any one evaluation
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        os.chmod(folder, 0o755)  # the plain process's container runs as nobody
        os.environ["ARCTL_HOME"] = str(folder / "home")  # a store of its own, removed at the end
        for n in args.sizes:
            spec = synthetic(n, folder)
            t0 = time.monotonic()
            task = prepare.prepare(spec, Path(spec.url))
            prepare_s = time.monotonic() - t0
            for label, path in CANDIDATES.items():
                cand = folder / "train.py"
                cand.write_bytes(path.read_bytes())
                plain = single_process(engine, image, task, cand, cpus)["seconds"]
                result = evaluate.evaluate(cand.read_bytes(), task, image, Limits(deadline=1800), engine=engine)
                assert result.verdict == "ok", result.reason
                rows.append((n, label, result.seconds / plain, prepare_s / plain if label.startswith("baseline") else None))
                print(f"  {n} rows, {label}: arctl {result.seconds:.1f} s, plain {plain:.1f} s", file=sys.stderr, flush=True)
    print("| rows | candidate | arctl ÷ one plain process | before (bind mounts) | `prepare` ÷ plain baseline |\n"
          "|---:|---|---:|---:|---:|")
    for n, label, ratio, prep in rows:
        before = BEFORE.get((label, n))
        print(f"| {n:,} | {label} | {ratio:.2f}× | {f'{before:.2f}×' if before else '—'} | "
              f"{f'{prep:.2f}×' if prep is not None else ''} |")


if __name__ == "__main__":
    main()
