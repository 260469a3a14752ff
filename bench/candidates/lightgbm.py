"""LightGBM with enough trees to fit for a while."""

from lightgbm import LGBMClassifier

HYPOTHESIS = "benchmark: LightGBM, 3000 trees"


def build_pipeline():
    return LGBMClassifier(n_estimators=3000, learning_rate=0.01, num_leaves=31, min_child_samples=5,
                          n_jobs=1, random_state=0, verbose=-1)
