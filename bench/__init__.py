"""Benchmarks of arctl: the cost of isolation, the loop's own overhead, and research quality.

Run `python -m bench` from the repository (after `bash .ci/setup`); it writes docs/benchmarks.md
and docs/benchmarks.json. Every figure is a ratio or a comparison measured side by side in the
same run, on the same machine, so a noisy shared machine shifts both sides alike.
"""
