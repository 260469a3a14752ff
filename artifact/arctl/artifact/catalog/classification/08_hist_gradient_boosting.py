"""scikit-learn's histogram gradient boosting handles missing values natively."""

from sklearn.ensemble import HistGradientBoostingClassifier

HYPOTHESIS = "histogram gradient boosting with native missing-value handling and early stopping off"


def build_pipeline():
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=8,
                                          min_samples_leaf=10, l2_regularization=1.0,
                                          early_stopping=False, random_state=0)
