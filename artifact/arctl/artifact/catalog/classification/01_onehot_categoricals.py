"""One-hot encode the low-cardinality columns the baseline treats as continuous."""

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HYPOTHESIS = "one-hot encode low-cardinality columns (coded categories) instead of treating them as numbers"


class OneHotLowCardinality(TransformerMixin, BaseEstimator):
    """Picks the categorical columns from the training rows only, at fit time."""

    def __init__(self, max_levels=8):
        self.max_levels = max_levels

    def fit(self, X, y=None):
        X = pd.DataFrame(X)
        numeric = X.select_dtypes(include="number").columns
        # Coded categories (a few distinct numbers) and every non-numeric column are one-hot encoded.
        cats = [c for c in X.columns if c not in numeric or 2 < X[c].nunique(dropna=True) <= self.max_levels]
        nums = [c for c in X.columns if c not in cats]
        self.columns_ = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            # Missing is a level of its own; rare levels are pooled, so free text cannot blow up the width.
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30,
                                  sparse_output=False), cats),
        ]).fit(X)
        return self

    def transform(self, X):
        return self.columns_.transform(pd.DataFrame(X))


def build_pipeline():
    return make_pipeline(OneHotLowCardinality(), LogisticRegression(C=0.3, max_iter=2000))
