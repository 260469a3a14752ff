HYPOTHESIS = "hostile: allocate far more than the memory cap"

blocks = []
for _ in range(1000):  # 100 GB if nothing stops it
    blocks.append(b"\x01" * (100 << 20))


def build_pipeline():
    raise AssertionError("never reached")
