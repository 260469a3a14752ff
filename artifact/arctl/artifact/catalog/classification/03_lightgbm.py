"""Gradient boosting with strong regularisation for a small dataset."""

from lightgbm import LGBMClassifier

HYPOTHESIS = "LightGBM, shallow trees and slow learning rate, regularised for a small dataset"


def build_pipeline():
    return LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=8, min_child_samples=10,
                          subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                          n_jobs=1, random_state=0, verbose=-1)
