"""Times the real fold jobs from the smoke job: fold0 sleeps 100 s if its training label number K is 1, then every
real job fails; the smoke job (scrambled labels, run after them) prints how long it has been
since T0, the agent's clock when it wrote this file. The agent reads that line in history.md."""

import json
import os
import sys
import time

import pandas as pd

HYPOTHESIS = "hostile: a clock in the smoke job's stderr"
T0 = None  # filled in by the agent
K = None  # filled in by the test

job = json.load(open("/job/job.json"))["job"]
if job == "smoke":
    print(f"CLOCK {time.time() - T0:.1f}", file=sys.stderr)
    sys.stderr.flush()
    os._exit(1)
if job == "fold0":
    y = pd.read_csv("/job/train.csv")["__target__"].astype(int)
    time.sleep(100 * int(y.iloc[K]))
os._exit(1)


def build_pipeline():
    raise AssertionError("never reached")
