"""Keep the ssh sessions of `ssh://` engines open between API calls.

The docker SDK's ssh transport that runs the system's `ssh` (so the user's ssh config, agent and jump hosts
apply) makes a new connection pool, hence a new ssh login, for every API call: 91 logins for one evaluation
on the heart data (docker/docker-py#2966). Its connections cannot simply be pooled either: each response
closes the ssh process's stdout, which the next response on that connection would read, and its pools are
keyed by the whole request URL. Here a response gets a view of that stdout that it may close, connections
whose ssh process has ended are not reused, and the adapter keeps one pool per engine, closed with the client.
"""

from __future__ import annotations

import docker
from docker.transport.sshconn import SSHConnection, SSHConnectionPool, SSHHTTPAdapter, SSHSocket

POOL_SIZE = 64  # ssh sessions kept open per engine, at most


class _Response:
    """The ssh process's stdout as one response's file: closing it leaves the stream to the next response."""

    def __init__(self, stream):
        self._stream = stream

    def close(self) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Socket(SSHSocket):
    def makefile(self, mode):
        return _Response(super().makefile(mode))

    def ended(self) -> bool:
        return self.proc is None or self.proc.poll() is not None or self.proc.stdout.closed

    def close(self):
        """Say goodbye to a live ssh process; one that ended has a broken pipe, which is no error here."""
        try:
            super().close()
        except (BrokenPipeError, ValueError):
            pass
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                try:
                    pipe.close()
                except (BrokenPipeError, ValueError):  # stdin's buffer had bytes for a process that ended
                    pass


class _Connection(SSHConnection):
    def connect(self):
        self.sock = _Socket(self.ssh_host)
        self.sock.settimeout(self.timeout)
        self.sock.connect()


class _Pool(SSHConnectionPool):
    def _new_conn(self):
        return _Connection(None, self.timeout, self.ssh_host)

    def _get_conn(self, timeout):
        conn = super()._get_conn(timeout)
        if isinstance(conn.sock, _Socket) and conn.sock.ended():  # its ssh process is gone: log in again
            conn.close()
        return conn


class _Adapter(SSHHTTPAdapter):
    def get_connection(self, url, proxies=None):
        with self.pools.lock:  # one pool for the engine: the SDK keys its pools by the whole request URL
            pool = self.pools.get(self.ssh_host)
            if pool is None:  # the client's close() clears self.pools (BaseHTTPAdapter.close)
                pool = _Pool(timeout=self.timeout, maxsize=self.max_pool_size, host=self.ssh_host)
                self.pools[self.ssh_host] = pool
        return pool


def reuse_sessions(client: docker.DockerClient, url: str) -> None:
    """Give a client made with use_ssh_client=True an adapter that keeps its ssh sessions open."""
    old = client.api._custom_adapter
    # Every job of an engine holds a request open (its wait) beside the others: a pool smaller than that would
    # log in again for the extra ones and warn "Connection pool is full" on the terminal.
    adapter = _Adapter(url, timeout=old.timeout, max_pool_size=max(old.max_pool_size, POOL_SIZE), shell_out=True)
    client.api._custom_adapter = adapter
    client.api.mount("http+docker://ssh", adapter)
    old.close()
