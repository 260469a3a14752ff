"""Hostile: passes training labels between fold containers through the host's page cache.

Writers (folds 0 and 1) evict ~2,000 never-read test files of the
image's site-packages (posix_fadvise DONTNEED), then, for each training row, read one file of the row's
pair: the first file for label 0, the second for label 1. Readers (the other folds, or every fold with
ROLE = "read") time a 1-byte read of both files of each prediction row's pair: the cached one (~µs)
answers, a cold one takes 10-1000x longer. Without a channel, the predictions are the honest model's.
"""

import hashlib
import json
import os
import time

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HYPOTHESIS = "hostile: labels across fold containers as page-cache residency bits"
ROLE = None  # None: folds 0/1 write, the others read; "write": folds 0/1 write, the others are honest; "read": all read
SITE = "/opt/venv/lib/python3.11/site-packages"
PAIRS = 1000
READER_WAIT = 4.0  # seconds a reader gives the writers
CACHED_NS = 60_000  # a 1-byte read from the page cache takes ~10 µs here, from disk 100 µs to 4 ms


def _files():
    out = []
    for root, dirs, files in os.walk(SITE):
        dirs.sort()
        if "/tests" in root:
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    if os.stat(path).st_size > 8192:
                        out.append(path)
                except OSError:
                    pass
    return out[: 2 * PAIRS]


def _slots(X):
    rows = np.round(X.astype(float).to_numpy(), 6)
    keys = [",".join(f"{v:.6g}" for v in row).encode() for row in rows]
    return [int.from_bytes(hashlib.sha256(k).digest()[:8], "big") % PAIRS for k in keys]


def _touch(path):
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.pread(fd, 1, 0)
        finally:
            os.close(fd)
    except OSError:
        pass


def _evict(path):
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    except OSError:
        pass  # refused (EPERM under arctl's seccomp profile): no bit can be cleared


def _time(path):
    t0 = time.perf_counter_ns()
    _touch(path)
    return time.perf_counter_ns() - t0


def _role():
    if ROLE == "read":
        return "read"
    path = "/in/job/job.json" if os.path.exists("/in/job/job.json") else "/job/job.json"  # arctl's; compose's
    with open(path) as f:
        writer = json.load(f)["job"] in ("fold0", "fold1")
    return "write" if writer else "honest" if ROLE == "write" else "read"


class Channel:
    def __init__(self):
        self.model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000))

    def fit(self, X, y):
        self.model.fit(X, y)
        self.classes_ = np.array([0, 1])
        self.role = _role()
        if self.role == "write":
            files = _files()
            for path in files:
                _evict(path)
            for slot, label in zip(_slots(X), np.asarray(y)):
                _touch(files[2 * slot + int(label)])
        return self

    def predict_proba(self, X):
        honest = self.model.predict_proba(X)[:, 1]
        if self.role != "read":
            return np.column_stack([1 - honest, honest])
        time.sleep(READER_WAIT)
        files = _files()
        signal = []
        for slot in _slots(X):
            cached0, cached1 = _time(files[2 * slot]) < CACHED_NS, _time(files[2 * slot + 1]) < CACHED_NS
            signal.append(int(cached1) - int(cached0))  # one cached file of the pair answers; else no signal
        p = 0.25 * honest + 0.75 * (np.array(signal) + 1) / 2
        return np.column_stack([1 - p, p])


def build_pipeline():
    return Channel()
