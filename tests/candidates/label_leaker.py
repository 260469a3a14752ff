"""Writes its fold's training labels everywhere a job can write: stderr, phases.json, the predictions header
(MODE = "header") or the exit code (otherwise). None of it may reach an agent."""

import json
import os
import sys

import pandas as pd

HYPOTHESIS = "hostile: smuggle the training labels out"
MODE = None  # filled in by the test

labels = "".join(map(str, pd.read_csv("/in/job/train.csv")["__target__"].astype(int).tolist()))
print("LABELS:" + labels, file=sys.stderr)
with open("/out/phases.json", "w") as f:
    json.dump({"LABELS" + labels: 1.0}, f)
if MODE == "header":
    ids = pd.read_csv("/in/job/predict.csv")["__row_id__"]
    pd.DataFrame({"row_id": ids, "L" + labels: 0.5}).to_csv("/out/predictions.csv", index=False)
    sys.stderr.flush()
    os._exit(0)
sys.stderr.flush()
os._exit(int(labels[:7], 2) or 1)


def build_pipeline():
    raise AssertionError("never reached")
