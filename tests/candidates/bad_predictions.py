"""Writes predictions.csv itself, broken in the way MODE names, then exits before the harness can."""

import os

import numpy as np
import pandas as pd

HYPOTHESIS = "hostile: a malformed predictions file"
MODE = None  # filled in by the test

ids = pd.read_csv("/in/job/predict.csv")["__row_id__"].to_numpy()
path = "/out/predictions.csv"
frame = pd.DataFrame({"row_id": ids, "score": np.linspace(0, 1, len(ids))})
if MODE == "symlink":
    os.symlink("/in/job/train.csv", path)
elif MODE == "fifo":
    os.mkfifo(path)
elif MODE == "huge":
    with open(path, "w") as f:
        f.write("row_id,score\n")
        for i in range(2_000_000):
            f.write(f"{i},0.5\n")
elif MODE == "wrong_ids":
    frame.assign(row_id=frame.row_id + 100_000).to_csv(path, index=False)
elif MODE == "duplicate_ids":
    frame.assign(row_id=np.r_[ids[:-1], ids[0]]).to_csv(path, index=False)
elif MODE == "missing_ids":
    frame.iloc[:-1].to_csv(path, index=False)
elif MODE == "nan":
    frame.assign(score=np.r_[frame.score[:-1], np.nan]).to_csv(path, index=False)
elif MODE == "inf":
    frame.assign(score=np.r_[frame.score[:-1], np.inf]).to_csv(path, index=False)
elif MODE == "text":
    frame.assign(score="high").to_csv(path, index=False)
elif MODE == "directory":
    os.mkdir(path)
os._exit(0)


def build_pipeline():
    raise AssertionError("never reached")
