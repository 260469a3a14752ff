"""Average three different model families: their errors are only partly correlated."""

from lightgbm import LGBMClassifier
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "soft-voting ensemble of logistic regression, random forest and LightGBM"


def build_pipeline():
    linear = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=2000))
    forest = make_pipeline(SimpleImputer(strategy="median"),
                           RandomForestClassifier(n_estimators=300, min_samples_leaf=3, n_jobs=1, random_state=0))
    boosted = LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=8, min_child_samples=10,
                             n_jobs=1, random_state=0, verbose=-1)
    return VotingClassifier([("lr", linear), ("rf", forest), ("lgbm", boosted)], voting="soft")
