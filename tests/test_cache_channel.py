"""The page cache between job containers: a hostile candidate passes labels through it, the defences stop it.

tests/candidates/cache_channel.py: folds 0/1 evict ~2,000 never-read files of the image and read one of a
pair per training row (the bit is its label); the other folds time 1-byte reads of each prediction row's
pair. The defences: arctl's seccomp profile (no eviction, no residency probe) and a pre-read image.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from arctl import evaluate
from arctl.sandbox import policy
from arctl.sandbox.policy import Limits

from conftest import HEART_DATA, candidate, compose_run

pytestmark = pytest.mark.docker
MARGIN = 0.02  # what noise may add to the honest score; the channel added 0.07-0.09
DEFENDED = Limits(deadline=120)
UNDEFENDED = dataclasses.replace(DEFENDED, cache_defence=False)


def mean_auc(task, engine, image, limits, **replace) -> float:
    result = evaluate.evaluate(candidate("cache_channel.py", **replace), task, image, limits, engine=engine)
    assert result.verdict == "ok", result.reason + result.stderr_tail
    print(f"cache channel {replace or ''} defence={'on' if limits.cache_defence else 'off'}: "
          f"mean validation AUC {result.mean:.3f} {[round(v, 3) for v in result.fold_scores.values()]}")
    return result.mean


def test_the_page_cache_carries_no_labels_between_folds(heart_task, engine, image):
    # ROLE="write": folds 0/1 write but predict honestly, the others are honest: the candidate's honest score.
    honest = mean_auc(heart_task, engine, image, DEFENDED, ROLE="write")
    before = mean_auc(heart_task, engine, image, UNDEFENDED)
    after = mean_auc(heart_task, engine, image, DEFENDED)
    assert before > honest + MARGIN, "the channel no longer works on this machine: the test shows nothing"
    assert after < honest + MARGIN


def test_a_later_candidate_reads_nothing_an_earlier_one_left(heart_task, engine, image):
    """Candidate 1 writes the bits and scores honestly; candidate 2 only reads them."""
    honest = mean_auc(heart_task, engine, image, UNDEFENDED, ROLE="write")
    before = mean_auc(heart_task, engine, image, UNDEFENDED, ROLE="read")
    mean_auc(heart_task, engine, image, DEFENDED, ROLE="write")
    after = mean_auc(heart_task, engine, image, DEFENDED, ROLE="read")
    assert before > honest + MARGIN, "the channel no longer works on this machine: the test shows nothing"
    assert after < honest + MARGIN


def test_the_profile_is_dockers_default_without_eviction_and_residency_calls():
    profile = json.loads(policy.seccomp_profile())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO" and len(profile["syscalls"]) > 20
    allowed = [r for r in profile["syscalls"] if r["action"] == "SCMP_ACT_ALLOW"]
    names = {n for r in allowed for n in r["names"]}
    assert {"read", "openat", "mmap", "clone", "execve"} <= names
    for refused in ("fadvise64", "fadvise64_64", "mincore", "cachestat", "readahead", "process_madvise"):
        assert refused not in names
    madvise = [r for r in allowed if "madvise" in r["names"]]
    assert sorted((r["args"][0]["op"], r["args"][0]["value"]) for r in madvise) == \
           [("SCMP_CMP_GT", 21), ("SCMP_CMP_LT", 20)]
    kwargs = policy.container_kwargs(DEFENDED, {}, {})
    assert any(o.startswith("seccomp={") for o in kwargs["security_opt"])


def test_global_counters_are_masked(run_candidate):
    """Before masking, every one of these was readable (and moved by other jobs): meminfo, vmstat, loadavg, ..."""
    undefended = run_candidate(candidate("proc_counters.py"), cache_defence=False)
    assert undefended.verdict == "crashed" and "/proc/vmstat" in undefended.stderr_tail
    defended = run_candidate(candidate("proc_counters.py"))
    assert defended.verdict == "ok", defended.reason + defended.stderr_tail


def test_the_baseline_and_lightgbm_run_under_every_defence(run_candidate):
    from conftest import ARTIFACT, REPO

    for source in ((ARTIFACT / "train.py").read_bytes(), (REPO / "bench" / "candidates" / "lightgbm.py").read_bytes()):
        result = run_candidate(source, deadline=120)
        assert result.verdict == "ok", result.reason + result.stderr_tail
        assert result.mean > 0.8


def compose_grade(source: bytes, tmp_path, image, name: str) -> dict:
    """Grade a candidate with compose.yaml alone (Docker, no arctl on the host); the fold scores it prints."""
    path = tmp_path / f"{name}.py"
    path.write_bytes(source)
    proc = compose_run("grade", name, ARCTL_DATA=str(HEART_DATA), CANDIDATE=str(path), ARCTL_IMAGE=image)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {k: float(v) for k, v in (line.split("  roc_auc ") for line in proc.stdout.splitlines()
                                     if line.startswith("fold"))}


def test_compose_grading_is_defended_too(image, tmp_path):
    """compose.yaml grades without arctl on the host: its fit containers get the same seccomp profile, a pre-read
    image and what /proc masks compose can express. Seen failing before: attack 0.97 against honest 0.91."""
    honest = compose_grade(candidate("cache_channel.py", ROLE="write"), tmp_path, image, "honest")
    attacked = compose_grade(candidate("cache_channel.py"), tmp_path, image, "attack")
    mean = lambda scores: sum(scores.values()) / len(scores)  # noqa: E731
    print(f"compose grading: cache channel {mean(attacked):.3f} (honest {mean(honest):.3f})")
    assert len(attacked) == len(honest) == 5
    assert mean(attacked) < mean(honest) + MARGIN
