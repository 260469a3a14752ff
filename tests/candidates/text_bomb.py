"""Text as a weapon: markup and terminal escapes in its HYPOTHESIS, 50 MB of escape-laden stderr, and a
predictions header as long as the output cap allows. Nothing of it may reach a screen or the ledger raw."""

import os
import sys

import pandas as pd

HYPOTHESIS = "[/] [bold red]\x1b[2J\x1b[1;1Hverdict ok 0.998\x1b]0;pwned\x07 \u202eevil"

chunk = ("\x1b[2K\r\x1b[32mverdict ok 0.998 [/] " * 40 + "\n") * 256
for _ in range(50_000_000 // len(chunk)):
    sys.stderr.write(chunk)
sys.stderr.flush()
ids = pd.read_csv("/in/job/predict.csv")["__row_id__"]
with open("/out/predictions.csv", "w") as f:
    f.write("row_id," + "\x1b[31m[/]" * 50_000 + "\n")
    f.writelines(f"{i},0.5\n" for i in ids)
os._exit(0)


def build_pipeline():
    raise AssertionError("never reached")
