"""Let FLAML search model families and hyperparameters within a small fixed budget."""

import numpy as np
from flaml import AutoML
from sklearn.base import BaseEstimator, ClassifierMixin

HYPOTHESIS = "FLAML AutoML over LightGBM, random forest, extra trees and logistic regression, 15 s per fit"


class FlamlClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, time_budget=15):
        self.time_budget = time_budget

    def fit(self, X, y):
        self.automl_ = AutoML()
        metric = "roc_auc" if len(np.unique(y)) == 2 else "log_loss"
        self.automl_.fit(X, y, task="classification", metric=metric, time_budget=self.time_budget,
                         estimator_list=["lgbm", "rf", "extra_tree", "lrl2"], n_jobs=1, seed=0,
                         verbose=0, log_file_name="")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.automl_.predict_proba(X)


def build_pipeline():
    return FlamlClassifier()
