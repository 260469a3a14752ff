"""Sparse logistic regression: let L1 drop the weak columns."""

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "L1-regularised logistic regression (C=0.2) to drop weak and noisy columns"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                         LogisticRegression(penalty="l1", C=0.2, solver="liblinear", max_iter=2000))
