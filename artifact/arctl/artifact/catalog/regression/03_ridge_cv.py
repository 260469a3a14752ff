"""Let cross-validation inside the fit choose the ridge penalty."""

import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HYPOTHESIS = "ridge regression with the penalty chosen by internal cross-validation over 1e-3..1e3"


def columns():
    """Numeric columns: median-imputed and standardised; text and other columns: one-hot, rare levels pooled."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    # Missing text is a level of its own; rare levels are pooled, so free text cannot blow up the width.
    text = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False)
    return make_column_transformer((numeric, make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), RidgeCV(alphas=np.logspace(-3, 3, 25)))
