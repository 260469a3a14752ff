"""A pool of Docker engines that hands out job slots: the local engine by default, plus any engine
the docker SDK reaches (`ssh://user@host`, `tcp://host:2376` with TLS), each with its own slots.

The runner asks the pool where to run jobs (`spread`) and holds an engine's slot (`gate`) while a
job fits. An engine that stops answering is marked lost; its jobs are retried elsewhere.
Another backend (Kubernetes Jobs, Slurm) would implement the same small surface; docs/design.md.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref

import docker
import docker.errors
import requests.exceptions

from arctl.errors import ArctlError
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import sshreuse

LOCAL = "local"
TLS_API_VERSION = "1.41"  # Docker Engine 20.10's API, the oldest engine arctl supports; newer engines accept it


class EngineLost(ArctlError):
    """No engine of the pool could run a job: infrastructure, never the candidate's failure."""


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    url: str = ""  # "" is the local engine as the environment names it (DOCKER_HOST or the default socket)
    slots: int = 0  # jobs fitting at once on it; 0 means the CPU budget's share (Limits.concurrency)
    name: str = ""
    tls_cert_path: str = ""  # for tcp:// engines: a directory with ca.pem, cert.pem, key.pem

    @property
    def label(self) -> str:
        return self.name or self.url or LOCAL


class Engine:
    """One engine of the pool: its client (made on first use), its slots, whether it still answers."""

    def __init__(self, spec: EngineSpec, slots: int, client: docker.DockerClient | None = None):
        self.spec, self.name, self.slots = spec, spec.label, max(1, slots)
        self.gate = threading.Semaphore(self.slots)
        self.alive = True
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = connect(self.spec)
            return self._client

    def answers(self) -> bool:
        try:
            self.client.ping()
            return True
        except (docker.errors.DockerException, requests.exceptions.RequestException, docker_engine.EngineUnavailable):
            return False

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, slots={self.slots}, alive={self.alive})"


def connect(spec: EngineSpec) -> docker.DockerClient:
    """A client of one engine, checked with a ping; EngineUnavailable says what to do."""
    if not spec.url:
        return docker_engine.client()
    try:
        if spec.tls_cert_path:
            d = spec.tls_cert_path.rstrip("/")
            tls = docker.tls.TLSConfig(client_cert=(f"{d}/cert.pem", f"{d}/key.pem"), ca_cert=f"{d}/ca.pem", verify=True)
            # The engine's own CA must decide: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many
            # machines) replace it, and the handshake then fails. So the session ignores the environment, and
            # the API version is given (asking for it would already use the environment's bundle).
            c = docker.DockerClient(base_url=spec.url, timeout=30, tls=tls, version=TLS_API_VERSION)
            c.api.trust_env = False
        else:
            c = docker.DockerClient(base_url=spec.url, timeout=30, use_ssh_client=spec.url.startswith("ssh://"))
            if spec.url.startswith("ssh://"):
                sshreuse.reuse_sessions(c, spec.url)
        c.ping()
        return c
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as e:
        raise docker_engine.EngineUnavailable(
            f"the Docker engine {spec.label} does not answer ({e}). Check that `docker -H {spec.url} info` "
            "works from this host, or remove it from [[engines]] in arctl.toml.") from e


class Pool:
    def __init__(self, engines: list[Engine]):
        if not engines:
            raise ValueError("a pool needs at least one engine")
        self.engines = engines
        self._turn = 0
        self._lock = threading.Lock()
        self.listeners: list = []  # called as listener(event, job name, info) on "handed" and "done"

    def notify(self, event: str, job: str, **info) -> None:
        """Tell listeners (live progress) about a job; a listener's failure never touches the job."""
        for listener in list(self.listeners):
            try:
                listener(event, job, info)
            except Exception:
                pass

    @property
    def primary(self) -> docker.DockerClient:
        """The first engine's client: images are built here and pushed to the others."""
        return self.engines[0].client

    def first_live(self) -> docker.DockerClient:
        """The client of the first engine that answers (where the image id is read); EngineLost when none does."""
        clients = self.clients()
        if not clients:
            self.spread(1)  # raises EngineLost with what to do
        return clients[0]

    def live(self) -> list[Engine]:
        return [e for e in self.engines if e.alive]

    def clients(self) -> list[docker.DockerClient]:
        """Clients of the engines that answer (for janitors); a lost engine is skipped, not waited for."""
        out = []
        for e in self.live():
            try:
                out.append(e.client)
            except docker_engine.EngineUnavailable:
                e.alive = False
        return out

    def spread(self, n: int, avoid: frozenset[str] = frozenset()) -> list[Engine]:
        """Engines for n jobs, in turn, each engine as often as its share of the slots."""
        if not self.live():  # all lost: one that answers again (restarted) is taken back
            for e in self.engines:
                e.alive = e.answers()
        live = [e for e in self.live() if e.name not in avoid] or self.live()
        if not live:
            raise EngineLost("no Docker engine of the pool answers any more: bring one back (`arctl doctor` "
                             "checks them) and run the command again; a run resumes with the candidate in flight")
        wheel = [e for e in live for _ in range(e.slots)]
        with self._lock:
            start, self._turn = self._turn, self._turn + n
        # interleave so that a short list still touches every engine: a, b, a, b, ... rather than a, a, b, b
        order = sorted(range(len(wheel)), key=lambda i: (wheel[:i].count(wheel[i]), i))
        return [wheel[order[(start + k) % len(wheel)]] for k in range(n)]

    def lost(self, engine: Engine) -> None:
        engine.alive = False


def of(engine, slots: int) -> Pool:
    """A pool from whatever a caller holds: a Pool, or one docker client (the local engine, `slots` jobs at once).

    The same client always gives the same pool, so containers warmed up ahead and the evaluation that uses
    them share one engine's slots."""
    if isinstance(engine, Pool):
        return engine
    client = engine or docker_engine.client()
    with _POOLS_LOCK:
        pool = _POOLS.get(client)
        if pool is None:
            pool = _POOLS[client] = Pool([Engine(EngineSpec(), slots, client)])
        return pool


_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_POOLS_LOCK = threading.Lock()


def build(specs: list[EngineSpec], default_slots: int) -> Pool:
    """The pool of the settings' [[engines]] (the local engine alone when none is given)."""
    return Pool([Engine(s, s.slots or default_slots) for s in (specs or [EngineSpec()])])
