"""Let FLAML search model families and hyperparameters within a small fixed budget."""

from flaml import AutoML
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "FLAML AutoML regression over LightGBM, random forest and extra trees, 15 s per fit"


def columns():
    """Numeric columns: median-imputed; text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer((SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


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
    # FLAML sees integer codes for text columns, so any schema reaches it as numbers.
    return make_pipeline(columns(), FlamlRegressor())
