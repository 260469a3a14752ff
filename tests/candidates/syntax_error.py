HYPOTHESIS = "broken: does not parse"

def build_pipeline(:
    return None
