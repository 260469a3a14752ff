"""A random forest: non-linear, robust to scale, little tuning needed."""

from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "random forest (500 trees, min 3 samples per leaf) to capture non-linear effects"


def build_pipeline():
    return make_pipeline(
        SimpleImputer(strategy="median"),
        RandomForestClassifier(n_estimators=500, min_samples_leaf=3, max_features="sqrt",
                               n_jobs=1, random_state=0),
    )
