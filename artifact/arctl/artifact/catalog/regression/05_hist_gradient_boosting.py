"""scikit-learn's histogram gradient boosting, native missing values."""

from sklearn.ensemble import HistGradientBoostingRegressor

HYPOTHESIS = "histogram gradient boosting regressor, small leaves, L2 regularisation"


def build_pipeline():
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=10,
                                         l2_regularization=1.0, early_stopping=False, random_state=0)
