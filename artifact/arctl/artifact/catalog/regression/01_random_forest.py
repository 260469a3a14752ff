"""A random forest: non-linear effects and interactions without tuning."""

from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "random forest regressor (400 trees, min 3 samples per leaf) for non-linear effects"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"),
                         RandomForestRegressor(n_estimators=400, min_samples_leaf=3, n_jobs=1, random_state=0))
