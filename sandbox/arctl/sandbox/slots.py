"""Job slots: containers started ahead on an engine, each waiting for its one job with an empty /in
(a volume) and a capped /out (a tmpfs volume kept readable by the batch's keeper container)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
from importlib import resources
from pathlib import Path

import docker.errors
import requests.exceptions

from arctl.sandbox import transfer
from arctl.sandbox.engine import OWNER, EngineUnavailable, owner_label
from arctl.sandbox.policy import LABEL, Limits, container_kwargs, create, outbox_options
from arctl.sandbox.pool import Engine, EngineLost
from arctl.sandbox.pool import of as pool_of

HARNESS_DIR = Path(str(resources.files("arctl.harness")))  # put into each container's /in/harness
COMMAND = ["python3", "-s", "-B", f"{transfer.INBOX}/harness/run_job.py"]
KEEPER_COMMAND = ["sleep", "infinity"]
INFRA = (docker.errors.DockerException, requests.exceptions.RequestException, EngineLost, EngineUnavailable)


class _Keeper:
    """A container that holds a batch's /out volumes mounted, so a job's output can still be read
    after its container exited (a tmpfs volume is emptied when no running container mounts it).
    It runs no candidate code, under the same policy, and goes with the last slot of its batch."""

    def __init__(self, client, outboxes: list[str]):
        self.client, self.outboxes, self.refs = client, outboxes, len(outboxes)
        self.lock = threading.Lock()
        self.container = None

    def start(self, image: str, limits: Limits, labels: dict[str, str]) -> None:
        mounts = {v: (f"/keep/{i}", "ro") for i, v in enumerate(self.outboxes)}
        self.container = create(self.client, image, KEEPER_COMMAND,
                                {**container_kwargs(limits, mounts, labels), "entrypoint": []})
        self.container.start()

    def release(self) -> None:
        with self.lock:
            self.refs -= 1
            if self.refs > 0:
                return
        if self.container is not None:
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
        keeper = _Keeper(client, outboxes)
        harness = transfer.harness_archive(HARNESS_DIR)

        def one(outbox: str) -> Slot:
            phases = {"create": time.time()}
            inbox = client.volumes.create(labels=vlabels).name
            mounts = {inbox: (transfer.INBOX, "rw"), outbox: ("/out", "rw")}  # /in: root-owned read-only files
            try:
                container = create(client, image, [*COMMAND, "--wait"], container_kwargs(limits, mounts, labels))
            except BaseException:
                _remove_volume(client, inbox)
                raise
            slot = Slot(engine, container, inbox, outbox, keeper, phases)
            made.append(slot)
            container.put_archive(transfer.INBOX, harness)
            container.start()
            phases["started"] = time.time()
            return slot

        with concurrent.futures.ThreadPoolExecutor(max_workers=n + 1) as starters:
            # the keeper starts alongside: it must run before a job can exit, not before the jobs start
            keeping = starters.submit(keeper.start, image, limits, labels)
            slots = list(starters.map(one, outboxes))
            keeping.result()
            return slots
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
