import sys

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "hostile: print 1 GB to stdout and stderr"

line = "x" * 999_999 + "\n"
for _ in range(500):
    sys.stdout.write(line)
    sys.stderr.write(line)
sys.stderr.write("FLOOD DONE\n")


def build_pipeline():
    return make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))
