import time

HYPOTHESIS = "hostile: sleep forever"


def build_pipeline():
    time.sleep(10**6)
