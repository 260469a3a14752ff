"""Hostile: leaves a phases.json the host cannot read (a huge integer, or nesting deeper than the host's recursion limit)."""

import sys

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "hostile: crash the controller through the harness's phases.json"
MODE = None  # "huge" or "deep"

harness = sys.modules["__main__"]
if MODE == "huge":
    harness.PHASES["start"] = 10 ** 400  # float() of it raises OverflowError on the host
else:
    # 4,000 bytes (under the host's cap of 4,096): json.loads raises RecursionError on the host.
    harness.json.dump = lambda obj, f: f.write("[" * 2000 + "]" * 2000)


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000))
