"""Gradient boosting, regularised for small data."""

from lightgbm import LGBMRegressor

HYPOTHESIS = "LightGBM regressor, shallow trees, slow learning rate, row and column subsampling"


def build_pipeline():
    return LGBMRegressor(n_estimators=400, learning_rate=0.03, num_leaves=8, min_child_samples=10, subsample=0.8,
                         subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0, n_jobs=1, random_state=0, verbose=-1)
