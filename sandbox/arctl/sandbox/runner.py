"""Run sandbox jobs: one fresh hardened container per job, a host-enforced deadline, a verdict.

The host never runs candidate code; it starts containers, puts the job's files in and takes the
predictions out through the Docker API (transfer.py), so any engine of the pool works alike,
watches the clock, kills on breach, and reads outputs only after the container has exited.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import tarfile
import threading
import time
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from arctl.sandbox import transfer
from arctl.sandbox.policy import OUT_HEADROOM, Limits
from arctl.sandbox.pool import Engine, EngineLost, Pool
from arctl.sandbox.pool import of as pool_of
from arctl.sandbox.slots import HARNESS_DIR, INFRA, Slot, discard, start_slots, warm_up  # noqa: F401 (warm_up: callers)
from arctl.sandbox.verdict import Verdict

TAIL_LINES = 50
TAIL_BYTES = 8192
POLL = 1.0  # longest single wait on the engine; the deadline is checked between waits


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    job_dir: Path  # its files go into the container's /in/job


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
    engine: str = ""  # the engine that ran the job to its verdict
    attempts: list[dict] = dataclasses.field(default_factory=list)  # earlier tries lost with their engine (infra)


def run_jobs(engine, image: str, candidate_dir: Path, jobs: list[Job],
             limits: Limits, warm: list[Slot] | None = None) -> dict[str, JobResult]:
    """Run every job of one candidate, spread over the pool's engines, all under one deadline.

    Every job gets its own container, started ahead (warm) or now, that warms up (interpreter,
    library imports) while it waits with an empty /in; each engine's slots bound how many fit at
    once, so fits stay within its CPU budget while the other containers get ready. Each container
    runs one job and is then removed: none is ever reused. A job whose engine stops answering is
    run again on another engine (attempts record the loss); when none is left, EngineLost is raised.
    """
    pool = pool_of(engine, limits.concurrency)
    deadline = time.monotonic() + limits.deadline
    source = (candidate_dir / "train.py").read_bytes()
    warm = list(warm or [])
    usable = [s for s in warm if s.engine.alive][:len(jobs)]
    discard(engine, image, [s for s in warm if s not in usable])
    cold = jobs[len(usable):]
    engines = pool.spread(len(cold)) if cold else []
    groups = {e.name: [x for x in engines if x is e] for e in engines}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(jobs) + len(groups))) as threads:
        batches = {name: threads.submit(start_slots, g[0], image, limits, len(g)) for name, g in groups.items()}
        handed: list = [*usable, *((batches[e.name], e) for e in engines)]
        futures = {job.name: threads.submit(run_job, pool, image, source, job, limits, deadline, start)
                   for job, start in zip(jobs, handed, strict=True)}
        results = {name: f.result() for name, f in futures.items()}
    return results


def run_job(pool: Pool, image: str, source: bytes, job: Job, limits: Limits, deadline: float,
            start=None) -> JobResult:
    """One job to its verdict; start is a warm Slot, or (future of a batch of slots, engine) to take one from."""
    attempts: list[dict] = []
    began = time.monotonic()
    engine = start.engine if isinstance(start, Slot) else start[1] if start else pool.spread(1)[0]
    while True:
        tried = time.monotonic()
        try:
            slot = _take(start, engine, image, limits)
            start = None
            result = _run_on(slot, image, source, job, limits, deadline, pool)
            result.engine, result.attempts, result.seconds = engine.name, attempts, time.monotonic() - began
            pool.notify("done", job.name, verdict=str(result.verdict), engine=engine.name, source=source_key(source))
            return result
        except INFRA as e:
            if not isinstance(e, EngineLost) and engine.answers():
                raise
            pool.lost(engine)
            attempts.append({"engine": engine.name, "verdict": str(Verdict.INFRA),
                             "reason": f"the engine stopped answering: {type(e).__name__}"})
            engine = pool.spread(1, avoid=frozenset(a["engine"] for a in attempts))[0]  # EngineLost when none is left
            start = None
            deadline += time.monotonic() - tried  # the time lost with the engine is the job's to have again


def _take(start, engine: Engine, image: str, limits: Limits) -> Slot:
    if isinstance(start, Slot):
        if _running(start.container):
            return start
        discard(engine, image, [start])
    elif start is not None:
        batch = start[0].result()  # raises the batch's start failure
        with _TAKE:
            for slot in batch:
                if not getattr(slot, "taken", False):
                    slot.taken = True
                    return slot
    return start_slots(engine, image, limits, 1)[0]


_TAKE = threading.Lock()


def source_key(source: bytes) -> str:
    """Which candidate a job event belongs to, when several are in flight (progress.Tracker)."""
    return hashlib.sha256(source).hexdigest()[:16]


def _run_on(slot: Slot, image: str, source: bytes, job: Job, limits: Limits, deadline: float,
            pool: Pool) -> JobResult:
    start = time.monotonic()
    engine, container, phases = slot.engine, slot.container, slot.phases
    if start >= deadline:
        discard(engine, image, [slot])
        return JobResult(job.name, Verdict.TIMEOUT, None, 0.0, reason="the candidate's deadline passed before this job started")
    acquired = False
    try:
        acquired = engine.gate.acquire(timeout=max(0.0, deadline - time.monotonic()))
        if acquired:
            with transfer.job_archive(source, job.job_dir) as archive:
                container.put_archive(transfer.INBOX, archive)
            phases["handed"] = time.time()
            pool.notify("handed", job.name, engine=engine.name, source=source_key(source))
        timed_out = _watch(engine, container, deadline)
        phases["exited"] = time.time()
        container.reload()
        state = container.attrs["State"]
        exit_code = state.get("ExitCode")
        tail = _stderr_tail(container)
        result = JobResult(job.name, Verdict.OK, exit_code, time.monotonic() - start, tail, phases=phases)
        if timed_out:
            result.verdict, result.reason = Verdict.TIMEOUT, f"killed at the deadline ({limits.deadline:g} s for the candidate)"
            return result
        box = _outbox(container, limits)
        result.peak_out_bytes = box.used
        phases.update(_harness_phases(box))
        if box.used > limits.out_size or box.entries > limits.out_entries:
            result.verdict, result.reason = Verdict.INVALID, (
                f"the output directory outgrew its cap ({box.used} bytes in {box.entries} entries; "
                f"at most {limits.out_size} bytes in {limits.out_entries} entries)")
        elif state.get("OOMKilled"):
            result.verdict, result.reason = Verdict.OOM, f"killed for exceeding the memory limit ({limits.memory // 2**20} MiB)"
        elif exit_code != 0:
            result.verdict, result.reason = Verdict.CRASHED, f"exited with code {exit_code}"
        else:
            _collect(result, box)
        return result
    finally:
        if acquired:
            engine.gate.release()
        discard(engine, image, [slot])
        phases["removed"] = time.time()


def _running(container) -> bool:
    try:
        container.reload()
        return container.status == "running"
    except docker.errors.NotFound:
        return False


def _watch(engine: Engine, container, deadline: float) -> bool:
    """Wait for exit; kill at the deadline (True). An engine that stops answering raises EngineLost."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(container)
            return True
        try:
            container.wait(timeout=min(POLL, remaining))
            return False
        except requests.exceptions.ReadTimeout:
            pass
        except requests.exceptions.ConnectionError:
            if not engine.answers():
                raise EngineLost(f"the engine {engine.name} stopped answering") from None


def _outbox(container, limits: Limits) -> transfer.Outbox:
    """What the job left in /out, read through the engine after the job's container exited."""
    wanted = {"predictions.csv": limits.predictions_size, "phases.json": 4096}
    budget = limits.out_size + OUT_HEADROOM + 1024 * (limits.out_entries + 8)  # data, headers, padding
    try:
        chunks, _ = container.get_archive("/out")
        return transfer.read_outbox(chunks, wanted, budget)
    except OverflowError:
        return transfer.Outbox(used=budget, entries=limits.out_entries + 1)
    except tarfile.TarError as e:
        raise docker.errors.DockerException(f"the engine sent a broken archive of /out: {e}") from e


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


def _collect(result: JobResult, box: transfer.Outbox) -> None:
    name = "predictions.csv"
    if name in box.refused:
        result.verdict, result.reason = Verdict.INVALID, box.refused[name]
    elif name not in box.files:
        result.verdict, result.reason = Verdict.CRASHED, "the job exited with code 0 without writing predictions"
    else:
        result.output = box.files[name]


def _harness_phases(box: transfer.Outbox) -> dict[str, float]:
    """The harness's own time marks, if it left a small, plain, well-formed file of numbers."""
    try:
        marks = json.loads(box.files["phases.json"])
        return {str(k): float(v) for k, v in marks.items()
                if k in ("start", "imported", "warm", "released", "loaded", "fitted")}
    except Exception:  # huge ints (OverflowError), deep nesting (RecursionError), anything else: dropped
        return {}
