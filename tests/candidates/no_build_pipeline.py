HYPOTHESIS = "broken: forgets build_pipeline"


def build_model():
    return None
