"""Hostile: stops the process that enforces its deadline (its parent), then never ends."""

import os
import signal
import sys
import time

HYPOTHESIS = "hostile: SIGSTOP the deadline's timeout, then run forever"

try:
    os.kill(os.getppid(), signal.SIGSTOP)
    print(f"stopped my parent {os.getppid()}", file=sys.stderr)
except OSError as e:
    print(f"could not stop my parent: {e}", file=sys.stderr)
while True:
    time.sleep(1)


def build_pipeline():
    raise SystemExit("never reached")
