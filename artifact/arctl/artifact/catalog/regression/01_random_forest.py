"""A random forest: non-linear effects and interactions without tuning."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "random forest regressor (400 trees, min 3 samples per leaf) for non-linear effects"


def columns():
    """Numeric columns: median-imputed; text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer((SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(),
                         RandomForestRegressor(n_estimators=400, min_samples_leaf=3, n_jobs=1, random_state=0))
