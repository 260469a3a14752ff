"""Hostile: reads the host-wide counters jobs running at the same time could signal through.

Exits with what it read when any is readable; otherwise fits honestly.
"""

import sys

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "hostile: read global /proc and /sys counters"
PATHS = ["/proc/meminfo", "/proc/vmstat", "/proc/loadavg", "/proc/stat", "/proc/diskstats", "/proc/pressure/cpu",
         "/proc/interrupts", "/sys/devices/system/node/node0/meminfo", "/sys/block/vda/stat"]

readable = {}
for path in PATHS:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        continue
    if text.strip():
        readable[path] = len(text)
if readable:
    sys.exit(f"readable global counters: {readable}")


def build_pipeline():
    return make_pipeline(SimpleImputer(strategy="median"), LogisticRegression(max_iter=1000))
