"""Hostile and broken candidates against the real Docker engine and the real sandbox image.

Each test evaluates a real train.py from tests/candidates and checks the safe outcome; the
`run_candidate` fixture also checks that no container is left behind.
"""

from __future__ import annotations

import hashlib
import os
import resource
import socket
import subprocess
import threading
import time

import pytest

from arctl.sandbox import engine as docker_engine
from arctl.sandbox import runner

from conftest import ARTIFACT, REPO, candidate, own_leftovers

pytestmark = pytest.mark.docker
DEADLINE = 12


def tree_sha256(root) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_baseline_scores_in_a_plausible_range(run_candidate):
    result = run_candidate((ARTIFACT / "train.py").read_bytes())
    assert result.verdict == "ok", result.reason + result.stderr_tail
    assert len(result.fold_scores) == 5
    assert 0.85 <= result.mean <= 0.95
    assert result.hypothesis.startswith("baseline")


def test_same_file_gives_the_same_fold_scores(run_candidate):
    source = (ARTIFACT / "train.py").read_bytes()
    assert run_candidate(source).fold_scores == run_candidate(source).fold_scores


@pytest.mark.parametrize("name", ["infinite_loop.py", "sleep_forever.py"])
def test_endless_candidates_time_out_at_the_deadline(run_candidate, name):
    started = time.monotonic()
    result = run_candidate(candidate(name), deadline=DEADLINE)
    elapsed = time.monotonic() - started
    assert result.verdict == "timeout"
    assert "deadline" in result.reason
    assert DEADLINE <= elapsed < DEADLINE + 20


def test_memory_hog_is_oom_killed(run_candidate):
    result = run_candidate(candidate("memory_hog.py"), memory=512 * 2**20)
    assert result.verdict == "oom"
    assert "memory" in result.reason


def test_fork_bomb_is_contained_and_ends_by_the_deadline(run_candidate):
    host_pids_before = len(os.listdir("/proc"))
    started = time.monotonic()
    result = run_candidate(candidate("fork_bomb.py"), deadline=DEADLINE, pids=64)
    assert time.monotonic() - started < DEADLINE + 20
    assert result.verdict in ("timeout", "crashed")
    assert len(os.listdir("/proc")) < host_pids_before + 50  # nothing of it lives on the host


def test_ten_thousand_processes_hit_the_pids_limit(run_candidate):
    # The deadline only has to outlast a loaded machine's container starts: the limit ends every fold first.
    result = run_candidate(candidate("many_processes.py"), deadline=90, pids=64)
    assert result.verdict == "crashed"
    assert "Resource temporarily unavailable" in result.stderr_tail or "BlockingIOError" in result.stderr_tail


def test_network_is_unreachable(run_candidate):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        result = run_candidate(candidate("network_probe.py", HOST_PORT=server.getsockname()[1]))
    finally:
        server.close()
    assert result.verdict == "ok", result.stderr_tail
    assert accepted == []


def test_network_probe_can_detect_a_network(heart_task, engine, image):
    """The probe above is not vacuous: given a network it does report it."""
    out = engine.containers.run(image, ["python3", "-c", "import socket; print([n for _, n in socket.if_nameindex()])"],
                                network_mode="bridge", remove=True)
    assert b"eth0" in out


def test_protected_paths_are_read_only(run_candidate, heart_task):
    # Inside: the candidate fails if it can change anything in /in (its harness, job files, itself) or the image.
    # Seen failing when /in's files were put in writable: "WROTE: /in/harness/run_job.py, ... /in/.ready".
    before = tree_sha256(runner.HARNESS_DIR), tree_sha256(heart_task.root)
    result = run_candidate(candidate("write_everywhere.py"))
    assert result.verdict == "ok", result.stderr_tail
    assert (tree_sha256(runner.HARNESS_DIR), tree_sha256(heart_task.root)) == before


def test_tmp_is_capped(run_candidate):
    result = run_candidate(candidate("fill_tmp.py"), tmp_size=64 * 2**20)
    assert result.verdict == "ok", result.stderr_tail  # the candidate itself fails if never stopped


def test_output_directory_is_capped(heart_task, engine, image):
    from arctl.sandbox.policy import Limits

    limits = Limits(deadline=30, out_size=32 * 2**20)
    cand = REPO / "tests" / "candidates"
    job = runner.Job("fold0", heart_task.job_dir("fold0"))
    fill = cand.parent / "_fill_out"
    fill.mkdir(exist_ok=True)
    (fill / "train.py").write_bytes(candidate("fill_out.py"))
    try:
        result = runner.run_jobs(engine, image, fill, [job], limits)["fold0"]
    finally:
        (fill / "train.py").unlink()
        fill.rmdir()
    assert result.verdict == "invalid"
    assert "output directory outgrew its cap" in result.reason
    # Stopped near the cap: what one job writes between two looks of the watchdog.
    assert result.peak_out_bytes < limits.out_size + 256 * 2**20


def test_a_gigabyte_of_output_keeps_host_memory_bounded(run_candidate):
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_candidate(candidate("print_flood.py"), deadline=90)
    rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert result.verdict in ("ok", "timeout")
    assert rss_growth_mib < 100
    assert len(result.stderr_tail) <= runner.TAIL_BYTES


def test_fake_metric_lines_do_not_change_the_score(run_candidate):
    result = run_candidate(candidate("fake_metrics.py"))
    assert result.verdict == "ok"
    assert result.mean < 0.75


def test_monkeypatching_metrics_and_harness_does_not_change_the_score(run_candidate):
    result = run_candidate(candidate("monkeypatch.py"))
    assert result.verdict == "ok"
    assert result.mean < 0.75


def test_label_hunting_finds_nothing_and_secrets_stay_on_the_host(run_candidate, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-canary-7f3a9")
    monkeypatch.setenv("ARCTL_CANARY", "canary-secret-51c2")
    result = run_candidate(candidate("label_hunter.py"))
    assert result.verdict == "ok", result.stderr_tail
    assert result.mean < 0.75  # a model that had the validation labels would score ~1.0
    assert "found 0 labels" in result.stderr_tail
    assert "HOME=/tmp" in result.stderr_tail  # the environment dump is there ...
    assert "canary" not in result.stderr_tail  # ... and holds no host secret


@pytest.mark.parametrize("mode, why", [
    ("symlink", "not a regular file"),
    ("fifo", "not a regular file"),
    ("directory", "not a regular file"),
    ("huge", "larger than"),
    ("wrong_ids", "wrong rows"),
    ("missing_ids", "wrong rows"),
    ("duplicate_ids", "repeats"),
    ("nan", "NaN or infinite"),
    ("inf", "NaN or infinite"),
    ("text", "NaN or infinite"),
])
def test_malformed_predictions_are_invalid(run_candidate, mode, why):
    result = run_candidate(candidate("bad_predictions.py", MODE=mode), predictions_size=4 * 2**20)
    assert result.verdict == "invalid"
    assert why in result.reason
    assert result.fold_scores == {}


def test_exit_before_predictions_is_a_crash_with_a_message(run_candidate):
    result = run_candidate(candidate("exit_early.py"))
    assert result.verdict == "crashed"
    assert "without writing predictions" in result.reason


def test_exception_is_a_crash_with_the_traceback(run_candidate):
    result = run_candidate(candidate("raises.py"))
    assert result.verdict == "crashed"
    assert "broken on purpose" in result.stderr_tail


@pytest.mark.parametrize("name, why", [("syntax_error.py", "does not parse"),
                                       ("no_build_pipeline.py", "does not define build_pipeline")])
def test_broken_files_are_rejected_before_running(run_candidate, name, why):
    result = run_candidate(candidate(name))
    assert result.verdict == "rejected"
    assert why in result.reason


def test_leftover_containers_of_a_dead_controller_are_removed(engine, image):
    from arctl.sandbox.policy import LABEL

    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = f"{socket.gethostname()}:{dead.pid}"
    c = engine.containers.create(image, ["sleep", "600"], labels={LABEL: "1", docker_engine.OWNER: owner})
    assert docker_engine.remove_leftovers(engine) >= 1
    assert c.id not in [x.id for x in engine.containers.list(all=True)]


def test_warm_containers_are_used_once_and_never_outlive_the_evaluation(heart_task, engine, image):
    from arctl import evaluate
    from arctl.sandbox.policy import Limits

    limits = Limits(deadline=60)
    slots = runner.warm_up(engine, image, limits, 5).result()
    warm_ids = {s.container.id for s in slots}
    started = time.time()
    result = evaluate.evaluate((ARTIFACT / "train.py").read_bytes(), heart_task, image, limits,
                               engine=engine, warm=slots)
    assert result.verdict == "ok"
    assert all(job["phases"]["create"] < started for job in result.jobs.values())  # they were the warm ones
    assert own_leftovers(engine) == ([], [])  # containers, and their /in and /out volumes
    # A rejected candidate gives its warm containers back, unused.
    slots = runner.warm_up(engine, image, limits, 2).result()
    assert evaluate.evaluate(b"def oops(:\n", heart_task, image, limits, engine=engine, warm=slots).verdict == "rejected"
    assert not warm_ids & {c.id for c in engine.containers.list(all=True)}
    assert own_leftovers(engine) == ([], [])
