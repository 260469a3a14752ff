"""Average three different model families: their errors are only partly correlated."""

from lightgbm import LGBMClassifier
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HYPOTHESIS = "soft-voting ensemble of logistic regression, random forest and LightGBM"


def columns():
    """Numeric columns: median-imputed and standardised; text and other columns: one-hot, rare levels pooled."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    # Missing text is a level of its own; rare levels are pooled, so free text cannot blow up the width.
    text = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False)
    return make_column_transformer((numeric, make_column_selector(dtype_include="number")),
                                   (text, make_column_selector(dtype_exclude="number")))


def build_pipeline():
    linear = LogisticRegression(max_iter=2000)
    forest = RandomForestClassifier(n_estimators=300, min_samples_leaf=3, n_jobs=1, random_state=0)
    boosted = LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=8, min_child_samples=10,
                             n_jobs=1, random_state=0, verbose=-1)
    return make_pipeline(columns(), VotingClassifier([("lr", linear), ("rf", forest), ("lgbm", boosted)], voting="soft"))
