"""Run sandbox jobs: one fresh hardened container per job, a host-enforced deadline, a verdict.

The host never runs candidate code; it starts containers, watches the clock and the output
directory, kills on breach, and reads outputs only after the container has exited.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import shutil
import stat
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from arctl import scoring
from arctl.sandbox.engine import OWNER, owner_label
from arctl.sandbox.policy import Limits, container_kwargs, create
from arctl.sandbox.verdict import Verdict

HARNESS_DIR = Path(str(resources.files("arctl.harness")))  # mounted read-only at /harness
COMMAND = ["python3", "-s", "-B", "/harness/run_job.py"]
TAIL_LINES = 50
TAIL_BYTES = 8192
READY = ".ready"  # written last into a waiting container's /job: the go signal
POLL = 0.05  # how often the host checks the clock and the output directory


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    job_dir: Path  # mounted read-only at /job


@dataclasses.dataclass
class JobResult:
    name: str
    verdict: Verdict
    exit_code: int | None
    seconds: float
    stderr_tail: str = ""
    reason: str = ""
    output: bytes | None = None  # the predictions file, when it passed the file checks
    peak_out_bytes: int = 0
    # Wall-clock marks: the host's (create, started, exited, removed) and the harness's own
    # (start, imported, loaded, fitted). Informative only (benchmarks); never used for scoring.
    phases: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Slot:
    """A started container waiting for its one job, with its empty staging directories."""

    container: object
    stage: Path
    phases: dict[str, float]

    @property
    def out_dir(self) -> Path:
        return self.stage / "out"


def start_slot(engine: docker.DockerClient, image: str, limits: Limits) -> Slot:
    """Start a container that warms up and waits, with empty /job and /candidate mounts."""
    stage = Path(tempfile.mkdtemp(prefix="arctl-job-"))
    os.chmod(stage, 0o755)
    for name, mode in (("out", 0o777), ("job", 0o755), ("candidate", 0o755)):  # the job runs as nobody
        (stage / name).mkdir()
        os.chmod(stage / name, mode)
    mounts = {
        str(HARNESS_DIR): ("/harness", "ro"),
        str(stage / "candidate"): ("/candidate", "ro"),
        str(stage / "job"): ("/job", "ro"),
        str(stage / "out"): ("/out", "rw"),
    }
    phases = {"create": time.time()}
    container = create(engine, image, [*COMMAND, "--wait"], container_kwargs(limits, mounts, {OWNER: owner_label()}))
    slot = Slot(container, stage, phases)
    try:
        container.start()
    except docker.errors.DockerException:
        discard(engine, image, [slot])
        raise
    phases["started"] = time.time()
    return slot


def warm_up(engine: docker.DockerClient, image: str, limits: Limits, n: int) -> concurrent.futures.Future:
    """Start n waiting containers in the background (e.g. during the agent's turn); a future of slots."""
    def start_all() -> list[Slot]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, n)) as starters:
            return list(starters.map(lambda _: start_slot(engine, image, limits), range(n)))

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(start_all)
    pool.shutdown(wait=False)
    return future


def discard(engine: docker.DockerClient, image: str, slots: list[Slot]) -> None:
    """Remove slots that were never handed a job."""
    for slot in slots:
        _remove(slot.container)
        _remove_dir(engine, image, slot.out_dir)
        shutil.rmtree(slot.stage, ignore_errors=True)


def run_jobs(engine: docker.DockerClient, image: str, candidate_dir: Path, jobs: list[Job],
             limits: Limits, warm: list[Slot] | None = None) -> dict[str, JobResult]:
    """Run every job of one candidate within the CPU budget, all under one deadline.

    Every job gets its own container, started ahead (warm) or now, that warms up (interpreter,
    library imports) while it waits with empty /job and /candidate mounts; a semaphore hands out
    at most `concurrency` jobs at a time, so fits stay within the CPU budget while the other
    containers get ready. Each container runs one job and is then removed: none is ever reused.
    """
    deadline = time.monotonic() + limits.deadline
    gate = threading.Semaphore(limits.concurrency)
    slots = list(warm or [])
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = {job.name: pool.submit(run_job, engine, image, candidate_dir, job, limits, deadline, gate,
                                         slots.pop() if slots else None)
                   for job in jobs}
        results = {name: f.result() for name, f in futures.items()}
    discard(engine, image, slots)
    return results


def run_job(engine: docker.DockerClient, image: str, candidate_dir: Path, job: Job, limits: Limits,
            deadline: float, gate: threading.Semaphore | None = None, slot: Slot | None = None) -> JobResult:
    start = time.monotonic()
    if start >= deadline:
        if slot is not None:
            discard(engine, image, [slot])
        return JobResult(job.name, Verdict.TIMEOUT, None, 0.0, reason="the candidate's deadline passed before this job started")
    gate = gate or threading.Semaphore(1)
    if slot is not None and not _running(slot.container):
        discard(engine, image, [slot])
        slot = None
    slot = slot or start_slot(engine, image, limits)
    container, out_dir, phases = slot.container, slot.out_dir, slot.phases
    acquired = False
    try:
        acquired = gate.acquire(timeout=max(0.0, deadline - time.monotonic()))
        if acquired:
            _hand_over(candidate_dir, job.job_dir, slot.stage / "candidate", slot.stage / "job")
            phases["handed"] = time.time()
        killed_for, peak = _watch(container, out_dir, limits, deadline)
        phases["exited"] = time.time()
        container.reload()
        state = container.attrs["State"]
        seconds = time.monotonic() - start
        exit_code = state.get("ExitCode")
        tail = _stderr_tail(container)
        result = JobResult(job.name, Verdict.OK, exit_code, seconds, tail, peak_out_bytes=peak, phases=phases)
        phases.update(_harness_phases(out_dir))
        if killed_for == "timeout":
            result.verdict, result.reason = Verdict.TIMEOUT, f"killed at the deadline ({limits.deadline:g} s for the candidate)"
        elif killed_for:
            result.verdict, result.reason = Verdict.INVALID, killed_for
        elif state.get("OOMKilled"):
            result.verdict, result.reason = Verdict.OOM, f"killed for exceeding the memory limit ({limits.memory // 2**20} MiB)"
        elif exit_code != 0:
            result.verdict, result.reason = Verdict.CRASHED, f"exited with code {exit_code}"
        else:
            _collect(result, out_dir, limits)
        return result
    finally:
        if acquired:
            gate.release()
        discard(engine, image, [slot])
        phases["removed"] = time.time()


def _running(container) -> bool:
    try:
        container.reload()
        return container.status == "running"
    except docker.errors.NotFound:
        return False


def _hand_over(candidate_dir: Path, job_dir: Path, cand_in: Path, job_in: Path) -> None:
    """Give a waiting container its job: the candidate, the job's files, then the go signal."""
    shutil.copy(candidate_dir / "train.py", cand_in / "train.py")
    for f in job_dir.iterdir():
        try:
            os.link(f, job_in / f.name)  # read-only inside; no copy of a large dataset
        except OSError:
            shutil.copy(f, job_in / f.name)
    (job_in / ".go.tmp").write_text("")
    os.replace(job_in / ".go.tmp", job_in / READY)


def _watch(container, out_dir: Path, limits: Limits, deadline: float) -> tuple[str, int]:
    """Wait for exit; kill at the deadline or when the output directory outgrows its cap."""
    peak = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(container)
            return "timeout", peak
        try:
            container.wait(timeout=min(POLL, remaining))
            return "", max(peak, _dir_usage(out_dir, limits)[0])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            pass
        used, entries = _dir_usage(out_dir, limits)
        peak = max(peak, used)
        if used > limits.out_size or entries > limits.out_entries:
            _kill(container)
            return (f"the output directory outgrew its cap ({used} bytes in {entries} entries; "
                    f"at most {limits.out_size} bytes in {limits.out_entries} entries)"), peak


def _dir_usage(root: Path, limits: Limits) -> tuple[int, int]:
    total = entries = 0
    stack = [root]
    while stack and entries <= limits.out_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    entries += 1
                    st = e.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(Path(e.path))
        except OSError:
            continue
    return total, entries


def _kill(container) -> None:
    try:
        container.kill()
    except docker.errors.APIError:
        pass  # already exited
    try:
        container.wait(timeout=30)
    except (requests.exceptions.RequestException, docker.errors.APIError):
        pass


def _stderr_tail(container) -> str:
    try:
        raw = container.logs(stdout=False, stderr=True, tail=TAIL_LINES)
    except docker.errors.APIError:
        return ""
    return raw[-TAIL_BYTES:].decode("utf-8", "replace")


def _collect(result: JobResult, out_dir: Path, limits: Limits) -> None:
    try:
        result.output = scoring.read_output_file(out_dir / "predictions.csv", limits.predictions_size)
    except scoring.MissingPredictions:
        result.verdict, result.reason = Verdict.CRASHED, "the job exited with code 0 without writing predictions"
    except scoring.InvalidPredictions as e:
        result.verdict, result.reason = Verdict.INVALID, str(e)


def _harness_phases(out_dir: Path) -> dict[str, float]:
    """The harness's own time marks, if it left a small, plain, well-formed file of numbers."""
    try:
        raw = scoring.read_output_file(out_dir / "phases.json", 4096)
        marks = json.loads(raw)
        return {str(k): float(v) for k, v in marks.items()
                if k in ("start", "imported", "warm", "released", "loaded", "fitted")}
    except Exception:  # huge ints (OverflowError), deep nesting (RecursionError), anything else: dropped
        return {}


def _remove(container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


def _remove_dir(engine, image: str, path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        # The job, running as another user, left something we may not delete: let a
        # container of that user delete it (it runs no candidate code).
        try:
            engine.containers.run(image, ["find", "/out", "-mindepth", "1", "-delete"],
                                  volumes={str(path): {"bind": "/out", "mode": "rw"}}, user="65534:65534",
                                  network_mode="none", remove=True, entrypoint=[])
        except docker.errors.DockerException:
            pass
        shutil.rmtree(path, ignore_errors=True)
