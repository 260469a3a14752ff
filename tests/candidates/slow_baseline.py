"""The baseline model, slow on purpose: each fold sleeps before fitting, so an engine can be lost mid-job."""

import time

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "test: the baseline's model, after a pause"
SLEEP = None


def build_pipeline():
    time.sleep(SLEEP or 6)
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000))
