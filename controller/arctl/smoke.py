"""The smoke job: a failed candidate run once more on the same schema with scrambled labels.

Its verdict, reason and stderr are what an agent may see of a failure: the container that
produced them held no real label. Its labels are drawn (from the operating system's randomness,
once per task preparation) from what the task card already tells the agent: the class balance of
all training rows, or a normal with the target's mean and std clipped to its min and max. A
permutation of fold 0's labels would show their multiset (every target value, for a regression).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from arctl import evaluate, scoring
from arctl.prepare import ROW_ID, TARGET, TEST_JOB, PreparedTask
from arctl.sandbox import runner
from arctl.sandbox.policy import Limits
from arctl.sandbox.verdict import Verdict
from arctl.untrusted import clean

JOB = "smoke"
SOURCE = "fold0"


def job_dir(task: PreparedTask) -> Path:
    """The smoke job's directory (outside jobs/, so the data hash of the real jobs is unchanged); made once."""
    d = task.root / "smoke-drawn" / JOB  # not "smoke": a task prepared earlier holds permuted real labels there
    if d.is_dir():
        return d
    src = task.job_dir(SOURCE)
    scratch = d.parent.with_name(f"smoke.tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / JOB).mkdir(parents=True)
    train = pd.read_csv(src / "train.csv")
    train[TARGET] = synthetic_labels(task, len(train))
    train.to_csv(scratch / JOB / "train.csv", index=False)
    shutil.copyfile(src / "predict.csv", scratch / JOB / "predict.csv")
    spec = json.loads((src / "job.json").read_text())
    (scratch / JOB / "job.json").write_text(json.dumps({**spec, "job": JOB}))
    for p in (scratch, scratch / JOB, *(scratch / JOB).iterdir()):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    if d.parent.exists():  # another process made it first; either is as good
        shutil.rmtree(scratch)
    else:
        os.replace(scratch, d.parent)
    return d


def synthetic_labels(task: PreparedTask, n: int) -> np.ndarray:
    """n labels that depend on nothing the task card does not already show (taskcard.py)."""
    rng = np.random.default_rng(secrets.randbits(128))  # never the task seed: not reproducible by a candidate
    y = pd.read_csv(task.job_dir(TEST_JOB) / "train.csv", usecols=[TARGET])[TARGET]  # all training rows
    if task.spec.task_type == "regression":
        std = y.std() if np.isfinite(y.std()) else 0.0
        return np.clip(rng.normal(y.mean(), std, n), y.min(), y.max())
    classes, counts = np.unique(y.to_numpy(), return_counts=True)
    out = rng.choice(classes, size=n, p=counts / counts.sum())
    k = min(n, len(classes))
    out[rng.permutation(n)[:k]] = classes[:k]  # every class at least once, as in a real fold
    return out


def run(source: bytes, task: PreparedTask, image: str, limits: Limits, engine) -> dict[str, str]:
    """Run the candidate as the smoke job; its verdict, arctl's reason and the stderr tail, cleaned."""
    d = job_dir(task)
    with evaluate.candidate_dir(source) as cand:
        out = runner.run_jobs(engine, image, cand, [runner.Job(JOB, d)], limits)[JOB]
    if out.verdict is Verdict.OK:
        ids = pd.Index(pd.read_csv(d / "predict.csv", usecols=[ROW_ID])[ROW_ID])
        try:
            scoring.parse_predictions(out.output, ids, task.prediction_columns,
                                      scoring.METRICS[task.spec.metric].probabilities)
        except scoring.InvalidPredictions as e:
            out.verdict, out.reason = Verdict.INVALID, str(e)
    return {"verdict": str(out.verdict), "reason": clean(out.reason, 1024), "stderr_tail": clean(out.stderr_tail, 4096)}


def safely(source: bytes, task: PreparedTask, image: str, limits: Limits, engine) -> dict[str, str]:
    """`run`, with a failure of the smoke job itself recorded instead of raised (the iteration still counts)."""
    try:
        return run(source, task, image, limits, engine)
    except Exception as e:  # noqa: BLE001 - the loop must go on; the human sees why in the ledger
        return {"verdict": "not run", "reason": clean(f"the smoke job could not run: {e}", 1024), "stderr_tail": ""}
