HYPOTHESIS = "broken: build_pipeline raises"


def build_pipeline():
    raise ValueError("this candidate's pipeline is broken on purpose")
