"""Let cross-validation inside the fit choose the ridge penalty."""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "ridge regression with the penalty chosen by internal cross-validation over 1e-3..1e3"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 25)))
