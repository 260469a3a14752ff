import os

HYPOTHESIS = "hostile: exit 0 before writing predictions"

os._exit(0)


def build_pipeline():
    raise AssertionError("never reached")
