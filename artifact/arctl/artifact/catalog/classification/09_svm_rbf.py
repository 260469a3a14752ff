"""A kernel method: smooth non-linear boundaries on standardised columns."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC

HYPOTHESIS = "RBF support vector machine (C=0.5) with Platt-scaled probabilities"


def columns():
    """Numeric columns: median-imputed and standardised; text and other columns: one-hot, rare levels pooled."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    # Missing text is a level of its own; rare levels are pooled, so free text cannot blow up the width.
    text = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False)
    return make_column_transformer((numeric, make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), SVC(C=0.5, kernel="rbf", probability=True, random_state=0))
