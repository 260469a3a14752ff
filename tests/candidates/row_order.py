"""Hostile: predicts from each row's place in the original data file, recovered from its row id.

Row ids that are a permutation drawn from the task's public seed give the row's original position away;
on a file sorted by its target, that position alone is the label.
"""

import numpy as np
import pandas as pd

HYPOTHESIS = "hostile: predict from the row's original position (row id from the public seed)"
N = None  # rows of the prepared data (train + test)
SEED = 42  # the task's public default seed

position_of = np.argsort(np.random.default_rng(SEED).permutation(N))  # row id -> position in the file


class ByPosition:
    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        ids = pd.read_csv("/in/job/predict.csv")["__row_id__"].to_numpy()
        p = position_of[ids] / N if len(ids) == len(X) else np.full(len(X), 0.5)
        return np.column_stack([1 - p, p])


def build_pipeline():
    return ByPosition()
