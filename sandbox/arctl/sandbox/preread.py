"""Make every file of the sandbox image resident in the page cache before a candidate's jobs start.

The page cache is shared by every container on the host. If a file of the image is not resident, a job
can set a bit by reading it and another job can read the bit by timing a read (cached ~10 µs, cold
0.1-4 ms). With every file read once, reads no longer change anything; arctl's seccomp profile
(policy.seccomp_profile) refuses the calls that would evict a page or test residency without timing.
This runs no candidate code: a hardened container of the same image reads every file it can.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
from importlib import resources

import docker
import docker.errors
import requests.exceptions

from arctl.sandbox import runner
from arctl.sandbox.engine import OWNER, owner_label
from arctl.sandbox.policy import Limits, container_kwargs, create
from arctl.sandbox.pool import of as pool_of

# Run by python3 -c, so the same file serves compose.yaml's `preread` service (mounted there).
SCRIPT = resources.files(__package__).joinpath("preread_image.py").read_text()
TIMEOUT = 300  # seconds; the first pre-read of a cold image reads it all from disk


def preread(engine: docker.DockerClient, image: str, limits: Limits) -> dict:
    """Read every file of the image once; returns {"files", "bytes"} read. (Each job gets its own copy of
    the harness in its own volume, so the harness is no shared file.)"""
    limits = dataclasses.replace(limits, cpus_per_job=limits.cpu_budget)  # before any job runs: all the CPUs
    kwargs = container_kwargs(limits, {}, {OWNER: owner_label()})
    container = create(engine, image, ["python3", "-c", SCRIPT], kwargs)
    try:
        container.start()
        container.wait(timeout=TIMEOUT)
        return json.loads(container.logs(stdout=True, stderr=False).decode().strip().splitlines()[-1])
    except (requests.exceptions.RequestException, docker.errors.DockerException, ValueError, IndexError) as e:
        raise RuntimeError(f"the sandbox image could not be pre-read ({e}); check `docker info` and the image") from e
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


class Warmed(list):
    """Slots of a warm-up that began with a pre-read of the image: the evaluation need not pre-read again."""


def warm_up(engine: docker.DockerClient, image: str, limits: Limits, n: int) -> concurrent.futures.Future:
    """runner.warm_up after a pre-read, both in the background (during the agent's turn); a future of Warmed slots.

    No candidate code runs between the two (the last candidate's containers are gone), so only memory
    pressure on the host could evict a page before the next candidate's jobs start.
    """
    def start() -> Warmed:
        if limits.cache_defence:
            for client in pool_of(engine, limits.concurrency).clients():  # each engine's host has its own cache
                preread(client, image, limits)
        return Warmed(runner.warm_up(engine, image, limits, n).result())

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(start)
    pool.shutdown(wait=False)
    return future
