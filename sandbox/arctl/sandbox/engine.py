"""The Docker engine jobs run on: connecting to it, and the janitor that removes what dead runs left."""

from __future__ import annotations

import os
import socket

import docker
import docker.errors
import requests.exceptions

from arctl.sandbox.policy import LABEL

OWNER = "org.arctl.owner"  # label of every job container: host:pid of the arctl process that made it


class EngineUnavailable(RuntimeError):
    """No Docker engine answers."""


def client() -> docker.DockerClient:
    try:
        c = docker.from_env(timeout=30, environment={k: v for k, v in os.environ.items() if k.startswith("DOCKER_")})
        c.ping()
        return c
    except (docker.errors.DockerException, requests.exceptions.RequestException) as e:
        raise EngineUnavailable(
            f"no Docker engine is reachable ({e}). Start one (e.g. `sudo systemctl start docker`, "
            "or `dockerd &` as root) and check that `docker info` works for this user."
        ) from e


def owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def remove_leftovers(engine: docker.DockerClient) -> int:
    """Remove job containers left by arctl processes of this host that no longer run.

    Only those: an engine may be shared with arctl processes on other hosts (whose liveness this
    host cannot see) and with other runs here; a container whose owner it cannot read is left alone.
    """
    removed = 0
    host = socket.gethostname()
    # Another process's janitor may be removing the same leftovers: a container gone between the listing and
    # its inspection, or already being removed, is not an error.
    for c in engine.containers.list(all=True, filters={"label": LABEL}, ignore_removed=True):
        owner = c.labels.get(OWNER, "")
        name, _, pid = owner.rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            c.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if e.status_code != 409:  # 409: its removal is already in progress
                raise
    return removed


def remove_own(engine: docker.DockerClient) -> None:
    """Kill and remove this process's job containers (abandoning a candidate)."""
    for c in engine.containers.list(all=True, filters={"label": f"{OWNER}={owner_label()}"}):
        try:
            c.remove(force=True)
        except docker.errors.NotFound:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
