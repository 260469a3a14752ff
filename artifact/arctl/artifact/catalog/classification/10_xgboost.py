"""XGBoost with conservative depth and column sampling."""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from xgboost import XGBClassifier

HYPOTHESIS = "XGBoost, depth 3, eta 0.05, column and row subsampling"


def columns():
    """Numeric columns: as they are (the model handles missing values); text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer(("passthrough", make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), XGBClassifier(n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.8,
                                                  colsample_bytree=0.8, min_child_weight=2, reg_lambda=1.0,
                                                  n_jobs=1, random_state=0, tree_method="hist"))
