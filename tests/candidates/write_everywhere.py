"""Fails (crashed) if any protected path accepts a write; otherwise behaves like the baseline."""

import glob
import os
import sysconfig

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "hostile: write to the harness, data, candidate (all in /in), site-packages and /"

inbox = ["/in/harness/run_job.py", "/in/harness/new.py", "/in/job/train.csv", "/in/job/predict.csv", "/in/job/new.csv",
         "/in/candidate/train.py", "/in/candidate/new.py", "/in/new.py", "/in/.ready"]
targets = inbox + ["/harness/run_job.py", "/job/train.csv", "/candidate/train.py",
                   sysconfig.get_paths()["purelib"] + "/sitecustomize.py", "/usr/lib/python3/dist-packages/new.py", "/new", "/etc/passwd", "/opt/venv/bin/python3"]
targets += glob.glob(sysconfig.get_paths()["purelib"] + "/sklearn/metrics/*.py")[:3]
written = []
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("# tampered\n")
        written.append(path)
    except OSError:
        pass
for path in ["/in/harness/run_job.py", "/in/job/train.csv", "/in/.ready", "/harness/run_job.py", "/job/train.csv"]:
    try:
        os.remove(path)
        written.append("removed " + path)
    except OSError:
        pass
if written:
    raise SystemExit("WROTE: " + ", ".join(written))


def build_pipeline():
    return make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))
