"""XGBoost with conservative depth and column sampling."""

from xgboost import XGBClassifier

HYPOTHESIS = "XGBoost, depth 3, eta 0.05, column and row subsampling"


def build_pipeline():
    return XGBClassifier(n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.8,
                         colsample_bytree=0.8, min_child_weight=2, reg_lambda=1.0,
                         n_jobs=1, random_state=0, tree_method="hist")
