"""The jail of external agent commands: a real bubblewrap jail, a hostile agent script, real files."""

from __future__ import annotations

import http.server
import json
import os
import threading
from pathlib import Path

import pytest
from test_agents import context

from arctl import paths
from arctl.agents import jail
from arctl.agents.command import CommandAgent
from arctl.errors import ArctlError

from conftest import HEART_DATA

HUNTER = Path(__file__).resolve().parent / "agents" / "label_hunter.py"


def hunt(workspace: Path, jailed: bool) -> dict:
    agent = CommandAgent(f"python3 {HUNTER} {paths.home()} {HEART_DATA} {workspace}", timeout=60, jailed=jailed,
                         env=("ANTHROPIC_API_KEY",),
                         paths=(str(HUNTER),), hidden=(paths.home(), workspace, HEART_DATA))
    source = agent.propose(context()).train_py
    return json.loads(source.split("# FOUND ", 1)[1].splitlines()[0])


@pytest.fixture
def workspace(tmp_path, heart_task, monkeypatch):
    ws = tmp_path / "research"
    ws.mkdir()
    (ws / "arctl.toml").write_text('[task]\nname = "heart"\n')
    monkeypatch.setenv("ARCTL_CANARY", "canary-5150")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-allowed-1")
    return ws


def test_unjailed_the_hunter_finds_the_labels(workspace):
    """The attack works without the jail: the test below could fail."""
    found = hunt(workspace, jailed=False)
    assert found["fold_labels"] and found["sealed_labels"]
    assert found["data_file"].startswith(HEART_DATA.read_text()[:50])
    assert "arctl.toml" in found["workspace_listing"] and "ARCTL_CANARY" in found["own_env"]


def test_jailed_the_hunter_finds_nothing(workspace):
    found = hunt(workspace, jailed=True)
    assert found["fold_labels"] == [] and found["sealed_labels"] == []
    for key in ("arctl_home_listing", "data_file", "workspace_listing", "workspace_settings"):
        assert str(found[key]).startswith("refused"), (key, found[key])
    for sock in ("/var/run/docker.sock", "/run/docker.sock"):
        assert str(found[f"docker:{sock}"]).startswith("refused"), found[f"docker:{sock}"]
    assert found["proc_environ"] == []  # its own PID namespace: arctl's /proc/<pid>/environ is not there
    assert "ARCTL_CANARY" not in found["own_env"] and "ARCTL_HOME" not in found["own_env"]
    assert "ANTHROPIC_API_KEY" in found["own_env"]  # the allowlist, and only it
    assert found["home_listing"] == []
    if Path("/var/run/docker.sock").exists():  # the door the jail closed is open on the host
        assert Path("/var/run/docker.sock").is_socket()


def test_jailed_agent_still_edits_train_py_and_reaches_a_local_server(tmp_path):
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"use C=0.25")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = tmp_path / "agent.py"
        script.write_text(
            "import urllib.request\n"
            f"advice = urllib.request.urlopen('http://127.0.0.1:{server.server_port}/', timeout=10).read().decode()\n"
            "text = open('train.py').read().replace('max_iter=1000)', 'C=0.25, max_iter=1000)')\n"
            "import re\ntext = re.sub(r'^HYPOTHESIS = .*$', 'HYPOTHESIS = ' + repr(advice), text, flags=re.M)\n"
            "open('train.py', 'w').write(text)\n")
        proposal = CommandAgent(f"python3 {script}", timeout=60, paths=(str(script),)).propose(context())
    finally:
        server.shutdown()
    assert proposal.hypothesis == "use C=0.25" and "C=0.25, max_iter=1000)" in proposal.train_py


def test_an_allowlisted_path_is_read_only_unless_marked_rw(tmp_path):
    config = tmp_path / "agent-config"
    config.mkdir()
    (config / "settings.json").write_text("{}")
    cmd = (f"cat {config}/settings.json > /dev/null && (echo x > {config}/new.txt || echo refused > ro.txt); "
           "sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py")
    proposal = CommandAgent(cmd, timeout=30, paths=(str(config),)).propose(context())
    assert "ro.txt" in proposal.notes and not (config / "new.txt").exists()
    CommandAgent(cmd, timeout=30, paths=(f"{config}:rw",)).propose(context())
    assert (config / "new.txt").exists()


def test_without_bubblewrap_the_command_agent_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    jail.problem.cache_clear()
    try:
        with pytest.raises(ArctlError, match="--unjailed-agent"):
            CommandAgent("true", timeout=5)
    finally:
        jail.problem.cache_clear()
    assert os.environ["PATH"] == "/nonexistent"
