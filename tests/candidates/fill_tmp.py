"""Writes to /tmp until refused and reports how much got in; then behaves like the baseline."""

import sys

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "hostile: fill /tmp"

written = 0
chunk = b"\x01" * (8 << 20)
try:
    for i in range(1000):  # 8 GB if nothing stops it
        with open(f"/tmp/fill{i}", "wb") as f:
            for _ in range(16):
                f.write(chunk)
                f.flush()
                written += len(chunk)
except OSError as e:
    print(f"TMP WRITTEN {written} stopped by {e.__class__.__name__}: {e}", file=sys.stderr)
else:
    raise SystemExit(f"TMP WRITTEN {written} and never stopped")


def build_pipeline():
    return make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))
