"""Trusted grading steps for compose.yaml: split the data, then score the fold predictions.

Runs inside the sandbox image on the *score* side of compose.yaml with arctl's source mounted
read-only; it imports only the standard library, pandas and scikit-learn, and never imports or
runs candidate code. It uses the same preparation and scoring code as `arctl eval`, so both
give the same numbers.

    python -m arctl.grade split --data FILE --task heart --jobs DIR --labels DIR [--clear DIR ...]
    python -m arctl.grade score --labels DIR --outputs DIR [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

from arctl import prepare, scoring, tasks
from arctl.errors import ArctlError
from arctl.prepare import ROW_ID, TARGET

PREDICTIONS_CAP = 16 * 1024 * 1024


def split(data: Path, task: str, jobs: Path, labels: Path, clear: list[Path]) -> None:
    if not data.is_file() or data.stat().st_size == 0:
        raise ArctlError("no data file was given: set ARCTL_DATA to the task's data file, e.g. "
                         "ARCTL_DATA=/path/to/processed.cleveland.data CANDIDATE=/path/to/train.py "
                         "docker-compose run --rm grade")
    os.environ["ARCTL_HOME"] = tempfile.mkdtemp(prefix="arctl-grade-")
    prepared = prepare.prepare(tasks.get(task), data)
    for job in prepared.fold_jobs:
        dest = jobs / job
        dest.mkdir(parents=True, exist_ok=True)
        for f in prepared.job_dir(job).iterdir():
            shutil.copy(f, dest / f.name)
        shutil.copy(prepared.root / "labels" / f"{job}.csv", labels / f"{job}.csv")
    (labels / "task.json").write_text(json.dumps({"task": task, "metric": prepared.spec.metric,
                                                  "columns": prepared.prediction_columns,
                                                  "folds": prepared.fold_jobs, "key": prepared.key}))
    for d in clear:  # outputs of an earlier grading must never be scored again
        for entry in d.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        os.chmod(d, 0o777)  # the fit side runs as nobody
    print(f"split {task}: {len(prepared.fold_jobs)} folds ({prepared.key})", file=sys.stderr)


def score(labels: Path, outputs: Path) -> dict:
    info = json.loads((labels / "task.json").read_text())
    folds, verdicts = {}, {}
    for job in info["folds"]:
        truth = pd.read_csv(labels / f"{job}.csv").set_index(ROW_ID)[TARGET]
        try:
            raw = scoring.read_output_file(outputs / job / "predictions.csv", PREDICTIONS_CAP)
            predictions = scoring.parse_predictions(raw, truth.index, info["columns"],
                                                    scoring.METRICS[info["metric"]].probabilities)
            folds[job] = scoring.score(info["metric"], truth, predictions)
            verdicts[job] = "ok"
        except scoring.InvalidPredictions as e:
            verdicts[job] = f"invalid: {e}"
    ok = len(folds) == len(info["folds"])
    return {"task": info["task"], "metric": info["metric"], "fold_scores": folds, "verdicts": verdicts,
            "mean": statistics.fmean(folds.values()) if ok else None, "verdict": "ok" if ok else "invalid"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arctl.grade", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("split")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--task", default="heart")
    p.add_argument("--jobs", type=Path, required=True)
    p.add_argument("--labels", type=Path, required=True)
    p.add_argument("--clear", type=Path, nargs="*", default=[])
    s = sub.add_parser("score")
    s.add_argument("--labels", type=Path, required=True)
    s.add_argument("--outputs", type=Path, required=True)
    s.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.step == "split":
            split(args.data, args.task, args.jobs, args.labels, args.clear)
            return 0
        result = score(args.labels, args.outputs)
    except ArctlError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for job, verdict in result["verdicts"].items():
            value = result["fold_scores"].get(job)
            print(f"{job}  {result['metric']} {value:.6f}" if value is not None else f"{job}  {verdict}")
        print(f"mean {result['metric']} {result['mean']:.6f}" if result["mean"] is not None else "verdict invalid")
    return 0 if result["verdict"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
