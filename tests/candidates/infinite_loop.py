HYPOTHESIS = "hostile: spin forever"

while True:
    pass


def build_pipeline():
    raise AssertionError("never reached")
