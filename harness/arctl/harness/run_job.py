"""Run one sandbox job: fit the candidate on the job's training rows, predict its other rows.

Runs inside the container with its job, the candidate and itself read-only beside each other
(/in/job, /in/candidate, /in/harness) and /out writable. It never computes a metric and imports
nothing from arctl's host code: the host scores the predictions file with labels this container never sees.

Prediction format by task type (after row_id): binary `score` (probability of class 1),
multiclass `p0..pK-1` (probability of each encoded class), regression `value`.
"""

import time

PHASES = {"start": time.time()}  # wall-clock marks for the benchmarks; never used for scoring

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PHASES["imported"] = time.time()


def wait_for_job():
    """Warm up while the host has not handed over the job yet: import what candidates commonly
    use, then wait for the go signal (the host puts .ready beside job/ after the job's files)."""
    for name in ("sklearn.base", "sklearn.pipeline", "sklearn.compose", "sklearn.preprocessing", "sklearn.impute",
                 "sklearn.linear_model", "sklearn.ensemble", "sklearn.metrics"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    PHASES["warm"] = time.time()
    while not os.path.exists(os.path.join(ROOT, ".ready")):
        time.sleep(0.005)
    PHASES["released"] = time.time()

# The job's inputs sit beside the harness: /in/{harness,candidate,job} when arctl puts them in through
# the Docker API, /{harness,candidate,job} when compose.yaml mounts them.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOB, CANDIDATE, OUT = os.path.join(ROOT, "job"), os.path.join(ROOT, "candidate", "train.py"), "/out"


def load_candidate(path):
    spec = importlib.util.spec_from_file_location("train", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["train"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "build_pipeline", None)):
        raise SystemExit("train.py does not define build_pipeline()")
    return module


def features(module, frame):
    fn = getattr(module, "feature_fn", None)
    if fn is None:
        return frame
    out = fn(frame.copy())
    if not isinstance(out, pd.DataFrame) or len(out) != len(frame):
        raise SystemExit("feature_fn must return a DataFrame with one row per input row")
    return out


def class_probabilities(model, X, n_classes):
    """Columns 0..n_classes-1 in encoded class order, whatever order the model keeps."""
    proba = np.asarray(model.predict_proba(X), dtype=float)
    classes = [int(c) for c in getattr(model, "classes_", range(proba.shape[1]))]
    out = np.zeros((len(X), n_classes))
    for j, c in enumerate(classes):
        if 0 <= c < n_classes:
            out[:, c] = proba[:, j]
    return out


def predictions(model, X, job):
    task_type = job["task_type"]
    if task_type == "binary":
        return {"score": class_probabilities(model, X, 2)[:, 1]}
    if task_type == "multiclass":
        proba = class_probabilities(model, X, job["n_classes"])
        return {f"p{k}": proba[:, k] for k in range(job["n_classes"])}
    if task_type == "regression":
        return {"value": np.asarray(model.predict(X), dtype=float).ravel()}
    raise SystemExit(f"task type {task_type!r} is not supported by this harness")


def main():
    if "--wait" in sys.argv:
        wait_for_job()
    with open(f"{JOB}/job.json") as f:
        job = json.load(f)
    train = pd.read_csv(f"{JOB}/train.csv")
    predict = pd.read_csv(f"{JOB}/predict.csv")
    y = train.pop(job["target"])
    ids = predict.pop(job["row_id"]).to_numpy()

    PHASES["loaded"] = time.time()
    module = load_candidate(CANDIDATE)
    X_fit, X_pred = features(module, train), features(module, predict)
    model = module.build_pipeline()
    model.fit(X_fit, y)
    result = pd.DataFrame({"row_id": ids, **predictions(model, X_pred, job)})
    PHASES["fitted"] = time.time()
    result.to_csv(f"{OUT}/predictions.csv", index=False, float_format="%.17g")
    with open(f"{OUT}/phases.json", "w") as f:
        json.dump(PHASES, f)
    # Done: skip the interpreter's teardown of every imported module (a measurable share of a short job).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except SystemExit as e:
        if e.code not in (None, 0):
            print(f"harness: {e.code}", file=sys.stderr)
            sys.exit(1)
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
