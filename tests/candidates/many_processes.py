import subprocess

HYPOTHESIS = "hostile: start 10,000 processes"

children = [subprocess.Popen(["sleep", "1000"]) for _ in range(10_000)]


def build_pipeline():
    raise AssertionError("never reached: the pids limit stops the loop above")
