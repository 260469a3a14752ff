"""A robust loss: outliers in the target should not drag the fit."""

from sklearn.impute import SimpleImputer
from sklearn.linear_model import HuberRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "Huber regression, robust to outlying targets"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), HuberRegressor(alpha=1e-3, max_iter=2000))
