"""Baseline candidate: median imputation, standard scaling, logistic regression.

Text columns, if the data has any, are one-hot encoded, missing values as a level of their own.
"""

import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HYPOTHESIS = "baseline: median imputation + standard scaling + logistic regression"


def feature_fn(X: pd.DataFrame) -> pd.DataFrame:
    return X


def build_pipeline():
    columns = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), make_column_selector(dtype_include="number")),
        # Missing text is a level of its own (an imputer would refuse a column of booleans).
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )
    return make_pipeline(columns, LogisticRegression(max_iter=1000))
