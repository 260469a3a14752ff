"""scikit-learn's histogram gradient boosting, native missing values."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "histogram gradient boosting regressor, small leaves, L2 regularisation"


def columns():
    """Numeric columns: as they are (the model handles missing values); text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer(("passthrough", make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, max_leaf_nodes=8,
                                                                  min_samples_leaf=10, l2_regularization=1.0,
                                                                  early_stopping=False, random_state=0))
