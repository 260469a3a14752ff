"""The original single-file way: one Python process fits the folds one after another and scores
itself. Runs inside one container of the sandbox image (same libraries), as trusted benchmark code.

Prints one JSON line: seconds from the first line of this file (before any import) to the end,
and the per-fold metric.
"""

import time

T0 = time.time()

import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def main(folds):
    spec = importlib.util.spec_from_file_location("train", "/candidate/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scores = {}
    for k in range(folds):
        train = pd.read_csv(f"/task/jobs/fold{k}/train.csv")
        predict = pd.read_csv(f"/task/jobs/fold{k}/predict.csv")
        labels = pd.read_csv(f"/task/labels/fold{k}.csv").set_index("__row_id__")["__target__"]
        y = train.pop("__target__")
        ids = predict.pop("__row_id__")
        fn = getattr(module, "feature_fn", lambda X: X)
        model = module.build_pipeline()
        model.fit(fn(train.copy()), y)
        proba = np.asarray(model.predict_proba(fn(predict.copy())))[:, 1]
        scores[f"fold{k}"] = float(roc_auc_score(labels.loc[ids].to_numpy(), proba))
    return scores


if __name__ == "__main__":
    folds = main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print(json.dumps({"seconds": time.time() - T0, "folds": folds}))
