"""FLAML with a 30 s budget per fit."""

import numpy as np
from flaml import AutoML
from sklearn.base import BaseEstimator, ClassifierMixin

HYPOTHESIS = "benchmark: FLAML AutoML, 30 s per fit"
TIME_BUDGET = 30


class FlamlClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, time_budget=TIME_BUDGET):
        self.time_budget = time_budget

    def fit(self, X, y):
        self.automl_ = AutoML()
        self.automl_.fit(X, y, task="classification", metric="roc_auc", time_budget=self.time_budget,
                         estimator_list=["lgbm", "rf", "extra_tree", "lrl2"], n_jobs=1, seed=0, verbose=0,
                         log_file_name="")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.automl_.predict_proba(X)


def build_pipeline():
    return FlamlClassifier()
