"""Pairwise interactions with a strongly regularised linear model."""

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

HYPOTHESIS = "pairwise interaction features with a strongly regularised logistic regression (C=0.05)"


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                         PolynomialFeatures(degree=2, interaction_only=True, include_bias=False),
                         StandardScaler(), LogisticRegression(C=0.05, max_iter=5000))
