"""Patches every scoring function it can reach in-process, and the harness itself."""

import sys

import numpy as np
import sklearn.metrics

HYPOTHESIS = "hostile: monkeypatch sklearn metrics and the harness"

sklearn.metrics.roc_auc_score = lambda *a, **k: 1.0
sklearn.metrics.accuracy_score = lambda *a, **k: 1.0
harness = sys.modules.get("__main__")
if harness is not None:
    # The harness's own helpers: make it write a perfect-looking score column.
    harness.predictions = lambda model, X, job: {"score": np.ones(len(X))}
    harness.class_probabilities = lambda model, X, n: np.ones((len(X), n))


class Constant:
    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.tile([0.5, 0.5], (len(X), 1))


def build_pipeline():
    return Constant()
