"""Pairwise interactions with a cross-validated ridge penalty."""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

HYPOTHESIS = "pairwise interaction features with a cross-validated ridge penalty"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                         PolynomialFeatures(degree=2, include_bias=False), StandardScaler(),
                         RidgeCV(alphas=np.logspace(-1, 4, 25)))
