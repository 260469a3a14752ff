"""Sparse logistic regression: let L1 drop the weak columns."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HYPOTHESIS = "L1-regularised logistic regression (C=0.2) to drop weak and noisy columns"


def columns():
    """Numeric columns: median-imputed and standardised; text and other columns: one-hot, rare levels pooled."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    # Missing text is a level of its own; rare levels are pooled, so free text cannot blow up the width.
    text = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False)
    return make_column_transformer((numeric, make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    # saga handles L1 for binary and multiclass targets alike (liblinear is binary only).
    return make_pipeline(columns(), LogisticRegression(l1_ratio=1.0, C=0.2, solver="saga", max_iter=5000))
