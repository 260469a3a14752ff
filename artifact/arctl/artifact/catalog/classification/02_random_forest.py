"""A random forest: non-linear, robust to scale, little tuning needed."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "random forest (500 trees, min 3 samples per leaf) to capture non-linear effects"


def columns():
    """Numeric columns: median-imputed; text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer((SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), RandomForestClassifier(n_estimators=500, min_samples_leaf=3, max_features="sqrt",
                                                           n_jobs=1, random_state=0))
