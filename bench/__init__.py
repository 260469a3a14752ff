"""Benchmarks of arctl: the cost of isolation, the loop's own overhead, and research quality.

Run `python -m bench` from the repository (after `bash .ci/setup`); it writes docs/benchmarks.md
and docs/benchmarks.json. Every figure is a ratio or a comparison measured side by side in the
same run, on the same machine, so a noisy shared machine shifts both sides alike.
"""


def sandbox(prefix: str):
    """A fresh ARCTL_HOME for one benchmark run, the Docker engine, and the sandbox image's tag (or a clear exit)."""
    import os
    import tempfile
    from pathlib import Path

    from arctl.sandbox import engine as docker_engine
    from arctl.sandbox import image as sandbox_image

    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["ARCTL_HOME"] = str(home)
    engine = docker_engine.client()
    image = sandbox_image.image_tag()
    if sandbox_image.find(engine, image) is None:
        raise SystemExit(f"the sandbox image {image} is missing: run `bash .ci/setup` first")
    return home, engine, image
