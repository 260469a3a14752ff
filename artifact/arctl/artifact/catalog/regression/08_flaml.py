"""Let FLAML search model families and hyperparameters within a small fixed budget."""

from flaml import AutoML
from sklearn.base import BaseEstimator, RegressorMixin

HYPOTHESIS = "FLAML AutoML regression over LightGBM, random forest and extra trees, 15 s per fit"


class FlamlRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, time_budget=15):
        self.time_budget = time_budget

    def fit(self, X, y):
        self.automl_ = AutoML()
        self.automl_.fit(X, y, task="regression", metric="rmse", time_budget=self.time_budget,
                         estimator_list=["lgbm", "rf", "extra_tree"], n_jobs=1, seed=0, verbose=0, log_file_name="")
        return self

    def predict(self, X):
        return self.automl_.predict(X)


def build_pipeline():
    return FlamlRegressor()
