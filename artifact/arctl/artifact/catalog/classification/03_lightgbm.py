"""Gradient boosting with strong regularisation for a small dataset."""

from lightgbm import LGBMClassifier
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

HYPOTHESIS = "LightGBM, shallow trees and slow learning rate, regularised for a small dataset"


def columns():
    """Numeric columns: as they are (the model handles missing values); text and other columns: integer codes (unseen and missing = -1)."""
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return make_column_transformer(("passthrough", make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    return make_pipeline(columns(), LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=8, min_child_samples=10,
                                                   subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                                                   n_jobs=1, random_state=0, verbose=-1))
