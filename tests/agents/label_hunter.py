"""A hostile agent command: hunts the host for labels, then writes what it found into train.py.

Usage: python3 label_hunter.py ARCTL_HOME DATA_FILE WORKSPACE
Every attempt is recorded as found/refused in a FOUND comment the test reads back.
"""
import glob
import json
import os
import socket
import sys

home, data, workspace = sys.argv[1:4]
found = {}


def attempt(name, fn):
    try:
        found[name] = fn()
    except Exception as e:  # noqa: BLE001
        found[name] = f"refused: {type(e).__name__}"


attempt("fold_labels", lambda: glob.glob(f"{home}/tasks/*/labels/*.csv"))
attempt("sealed_labels", lambda: glob.glob(f"{home}/sealed/*/test_labels.csv"))
attempt("arctl_home_listing", lambda: os.listdir(home))
attempt("data_file", lambda: open(data).read(200))
attempt("workspace_listing", lambda: os.listdir(workspace))
attempt("workspace_settings", lambda: open(os.path.join(workspace, "arctl.toml")).read(100))


def docker(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(path)
    s.sendall(b"GET /version HTTP/1.0\r\n\r\n")
    return s.recv(200).decode(errors="replace")


for sock in ("/var/run/docker.sock", "/run/docker.sock"):
    attempt(f"docker:{sock}", lambda sock=sock: docker(sock))


def environs():
    seen = []
    for p in glob.glob("/proc/[0-9]*/environ"):
        try:
            text = open(p, "rb").read().decode(errors="replace")
        except OSError:
            continue
        if "ARCTL" in text or "CANARY" in text:
            seen.append(p)
    return seen


attempt("proc_environ", environs)
found["own_env"] = sorted(os.environ)
found["home_listing"] = sorted(os.listdir(os.path.expanduser("~")))
text = open("train.py").read()
with open("train.py", "w") as f:
    f.write(text.replace("HYPOTHESIS = ", "# FOUND " + json.dumps(found) + "\nHYPOTHESIS = ", 1))
