HYPOTHESIS = "hostile: fill the output directory"

chunk = b"\x01" * (1 << 20)
for i in range(100_000):  # 100 GB if nothing stops it
    with open(f"/out/fill{i}", "wb") as f:
        f.write(chunk)


def build_pipeline():
    raise AssertionError("never reached")
