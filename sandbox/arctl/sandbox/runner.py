"""Run sandbox jobs: one fresh hardened container per job, a host-enforced deadline, a verdict.

The host never runs candidate code; it starts containers, puts the job's files in and takes the
predictions out through the Docker API (transfer.py), so any engine of the pool works alike,
watches the clock, kills on breach, and reads outputs only after the container has exited.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import tarfile
import threading
import time
from importlib import resources
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from arctl.sandbox import transfer
from arctl.sandbox.engine import OWNER, owner_label
from arctl.sandbox.policy import LABEL, OUT_HEADROOM, Limits, container_kwargs, outbox_options
from arctl.sandbox.pool import Engine, EngineLost, Pool
from arctl.sandbox.pool import of as pool_of
from arctl.sandbox.verdict import Verdict

HARNESS_DIR = Path(str(resources.files("arctl.harness")))  # put into each container's /in/harness
COMMAND = ["python3", "-s", "-B", f"{transfer.INBOX}/harness/run_job.py"]
KEEPER_COMMAND = ["sleep", "infinity"]
TAIL_LINES = 50
TAIL_BYTES = 8192
POLL = 1.0  # longest single wait on the engine; the deadline is checked between waits
INFRA = (docker.errors.DockerException, requests.exceptions.RequestException, EngineLost)


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


class _Keeper:
    """A container that holds a batch's /out volumes mounted, so a job's output can still be read
    after its container exited (a tmpfs volume is emptied when no running container mounts it).
    It runs no candidate code, under the same policy, and goes with the last slot of its batch."""

    def __init__(self, client, image: str, limits: Limits, outboxes: list[str], labels: dict[str, str]):
        self.client, self.outboxes, self.refs = client, outboxes, len(outboxes)
        self.lock = threading.Lock()
        mounts = {v: (f"/keep/{i}", "ro") for i, v in enumerate(outboxes)}
        self.container = client.containers.create(image, KEEPER_COMMAND, entrypoint=[],
                                                  **container_kwargs(limits, mounts, labels))
        self.container.start()

    def release(self) -> None:
        with self.lock:
            self.refs -= 1
            if self.refs > 0:
                return
        _remove(self.container)
        for v in self.outboxes:
            _remove_volume(self.client, v)


@dataclasses.dataclass
class Slot:
    """A started container waiting for its one job, with its inbox and its capped outbox."""

    engine: Engine
    container: object
    inbox: str  # volume at /in
    outbox: str  # tmpfs volume at /out
    keeper: _Keeper
    phases: dict[str, float]


def start_slots(engine: Engine, image: str, limits: Limits, n: int) -> list[Slot]:
    """Start n containers on one engine that warm up and wait for their job; raises on failure, leaving nothing."""
    client = engine.client
    labels = {OWNER: owner_label()}
    vlabels = {LABEL: "1", **labels}
    outboxes: list[str] = []
    made: list[Slot] = []
    keeper = None
    try:
        for _ in range(n):
            outboxes.append(client.volumes.create(driver="local", driver_opts=outbox_options(limits), labels=vlabels).name)
        keeper = _Keeper(client, image, limits, outboxes, labels)
        harness = transfer.harness_archive(HARNESS_DIR)

        def one(outbox: str) -> Slot:
            phases = {"create": time.time()}
            inbox = client.volumes.create(labels=vlabels).name
            mounts = {inbox: (transfer.INBOX, "rw"), outbox: ("/out", "rw")}  # /in: root-owned read-only files
            try:
                container = client.containers.create(image, [*COMMAND, "--wait"],
                                                     **container_kwargs(limits, mounts, labels))
            except BaseException:
                _remove_volume(client, inbox)
                raise
            slot = Slot(engine, container, inbox, outbox, keeper, phases)
            made.append(slot)
            container.put_archive(transfer.INBOX, harness)
            container.start()
            phases["started"] = time.time()
            return slot

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, n)) as starters:
            return list(starters.map(one, outboxes))
    except BaseException:
        for slot in made:
            _remove(slot.container)
            _remove_volume(client, slot.inbox)
        if keeper is not None:
            keeper.refs = 1
            keeper.release()
        else:
            for v in outboxes:
                _remove_volume(client, v)
        raise


def warm_up(engine, image: str, limits: Limits, n: int) -> concurrent.futures.Future:
    """Start n waiting containers in the background (e.g. during the agent's turn), spread over the
    pool's engines; a future of slots. `engine` is a Pool or one docker client."""
    engines = pool_of(engine, limits.concurrency).spread(n)

    def start_all() -> list[Slot]:
        groups = {e.name: [x for x in engines if x is e] for e in engines}
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(groups))) as starters:
            batches = list(starters.map(lambda g: _start_or_none(g[0], image, limits, len(g)), groups.values()))
        return [s for b in batches for s in b]

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(start_all)
    pool.shutdown(wait=False)
    return future


def _start_or_none(engine: Engine, image: str, limits: Limits, n: int) -> list[Slot]:
    """Warm slots are an optimisation: an engine that cannot start them now simply gets cold jobs."""
    try:
        return start_slots(engine, image, limits, n)
    except INFRA:
        return []


def discard(engine, image: str, slots: list[Slot]) -> None:
    """Remove slots that were never handed a job (or whose job is over)."""
    for slot in slots:
        _remove(slot.container)
        _remove_volume(slot.engine.client, slot.inbox)
        slot.keeper.release()


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
        try:
            slot = _take(start, engine, image, limits)
            start = None
            result = _run_on(slot, image, source, job, limits, deadline)
            result.engine, result.attempts, result.seconds = engine.name, attempts, time.monotonic() - began
            return result
        except INFRA as e:
            if not isinstance(e, EngineLost) and engine.answers():
                raise
            pool.lost(engine)
            attempts.append({"engine": engine.name, "verdict": str(Verdict.INFRA),
                             "reason": f"the engine stopped answering: {type(e).__name__}"})
            engine = pool.spread(1, avoid=frozenset(a["engine"] for a in attempts))[0]  # EngineLost when none is left
            start = None


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


def _run_on(slot: Slot, image: str, source: bytes, job: Job, limits: Limits, deadline: float) -> JobResult:
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
    except (KeyError, ValueError, TypeError, AttributeError):
        return {}


def _remove(container) -> None:
    try:
        container.remove(force=True)
    except INFRA:
        pass  # gone already, or its engine is lost: that engine's janitor removes it (labelled with this process)


def _remove_volume(client, name: str) -> None:
    try:
        client.api.remove_volume(name, force=True)
    except INFRA:
        pass  # as above
