"""Baseline candidate: median imputation, standard scaling, logistic regression."""

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "baseline: median imputation + standard scaling + logistic regression"


def feature_fn(X: pd.DataFrame) -> pd.DataFrame:
    return X


def build_pipeline():
    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
