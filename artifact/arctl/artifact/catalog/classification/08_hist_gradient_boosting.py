"""scikit-learn's histogram gradient boosting handles missing values natively."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "histogram gradient boosting with native missing-value handling and early stopping off"


def columns():
    """Numeric columns: as they are (the model handles missing values); text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer(("passthrough", make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=8,
                                                                   min_samples_leaf=10, l2_regularization=1.0,
                                                                   early_stopping=False, random_state=0))
