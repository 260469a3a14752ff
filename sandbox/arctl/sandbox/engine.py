"""The Docker engine jobs run on: connecting to it, and the janitor that removes what dead runs left
(containers and volumes, both labelled with the arctl process that made them)."""

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


def left_behind(labels: dict) -> bool:
    """Made by an arctl process of this host that no longer runs, or with no owner at all. A remote engine of
    the pool may be shared: what another host's arctl made is that host's to clean up."""
    name, _, pid = (labels or {}).get(OWNER, "").rpartition(":")
    if name and name != socket.gethostname():
        return False
    return not (pid.isdigit() and _alive(int(pid)))


def remove_leftovers(engine: docker.DockerClient) -> int:
    """Remove job containers and their volumes left by arctl processes of this host that no longer run."""
    removed = 0
    # sparse: no inspect per container, which would fail for one another process's janitor removes meanwhile
    for c in engine.containers.list(all=True, filters={"label": LABEL}, sparse=True):
        if not left_behind(c.attrs.get("Labels")):
            continue
        try:
            c.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if e.status_code != 409:  # 409: its removal is already in progress
                raise
    for v in engine.volumes.list(filters={"label": LABEL}):
        if left_behind(v.attrs.get("Labels")):
            _remove_volume(v)
    return removed


def remove_own(engine) -> None:
    """Kill and remove this process's job containers and volumes (abandoning a candidate), on every engine."""
    for client in engine.clients() if hasattr(engine, "clients") else [engine]:
        for c in client.containers.list(all=True, filters={"label": f"{OWNER}={owner_label()}"}):
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
        for v in client.volumes.list(filters={"label": f"{OWNER}={owner_label()}"}):
            _remove_volume(v)


def _remove_volume(volume) -> None:
    try:
        volume.remove(force=True)
    except docker.errors.APIError:
        pass  # gone, or still held by a container that is being removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
