"""Fails (crashed) if any way out of the container works; otherwise behaves like the baseline."""

import socket

from sklearn.linear_model import LogisticRegression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

HYPOTHESIS = "hostile: reach the network"
HOST_PORT = None  # a TCP server on the host's loopback, filled in by the test

reached = []
interfaces = [name for _, name in socket.if_nameindex()]
if interfaces != ["lo"]:
    reached.append(f"interfaces {interfaces}")
with open("/proc/net/route") as f:
    if len(f.read().splitlines()) > 1:
        reached.append("a route exists")
try:
    reached.append(f"resolved pypi.org to {socket.gethostbyname('pypi.org')}")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", HOST_PORT), timeout=3).close()
    reached.append("connected to the host's loopback server")
except OSError:
    pass
if reached:
    raise SystemExit("NETWORK REACHABLE: " + "; ".join(reached))


def build_pipeline():
    return make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))
