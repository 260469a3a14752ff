"""Remote engines as `[[engines]]` names them, reached the way arctl reaches them: `tcp://` with TLS (a real
dockerd that demands client certificates, made here with openssl) and `ssh://` (a real sshd of our own on
127.0.0.1, in front of this machine's engine)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import certifi
import pytest

from arctl import evaluate
from arctl.sandbox import image as sandbox_image
from arctl.sandbox.engine import EngineUnavailable
from arctl.sandbox.policy import LABEL, Limits
from arctl.sandbox.pool import Engine, EngineSpec, Pool, connect

from conftest import REPO, candidate, own_leftovers

pytestmark = pytest.mark.docker
ROOT = Path(os.environ.get("ARCTL_TEST_ENGINES") or Path(tempfile.gettempdir()) / "arctl-test-engines") / "tls"
BRIDGE = "arctltls0"  # its own bridge: with --bridge=none a dockerd deletes the host's docker0


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d: Path, ca: str) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as Docker's TLS guide makes them."""
    d.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
            "-days", "2", "-subj", f"/CN={ca}", cwd=d)
    for name, usage, san in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1\n"), ("client", "clientAuth", "")):
        (d / f"{name}.ext").write_text(f"{san}extendedKeyUsage={usage}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                "-out", f"{name}-cert.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    # tls_cert_path holds the names Docker's CLI uses: ca.pem, cert.pem, key.pem
    (d / "cert.pem").write_bytes((d / "client-cert.pem").read_bytes())
    (d / "key.pem").write_bytes((d / "client-key.pem").read_bytes())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls_engine(engine, image):
    if os.geteuid() != 0:
        pytest.fail("starting an extra dockerd needs root (as ../shared/tools/fresh-machine does)")
    certs = Path(tempfile.mkdtemp(prefix="arctl-tls-"))
    make_certs(certs / "good", "arctl-test-ca")
    make_certs(certs / "other", "some-other-ca")
    ROOT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ip", "link", "add", "name", BRIDGE, "type", "bridge"], capture_output=True)
    url = f"tcp://127.0.0.1:{free_port()}"
    good = certs / "good"
    proc = subprocess.Popen(
        ["dockerd", "--data-root", str(ROOT / "docker"), "--exec-root", "/tmp/arctl-tls-exec",
         "--pidfile", str(ROOT / "dockerd.pid"), "-H", url, "--tlsverify", "--tlscacert", str(good / "ca.pem"),
         "--tlscert", str(good / "server-cert.pem"), "--tlskey", str(good / "server-key.pem"),
         "--iptables=false", f"--bridge={BRIDGE}"],
        stdout=open(ROOT / "dockerd.log", "ab"), stderr=subprocess.STDOUT)
    spec = EngineSpec(url=url, name="tls", tls_cert_path=str(good))
    try:
        for _ in range(120):
            assert proc.poll() is None, f"dockerd exited; see {ROOT / 'dockerd.log'}"
            try:
                connect(spec)
                break
            except EngineUnavailable:
                time.sleep(0.5)
        else:
            raise AssertionError("the TLS engine did not answer within 60 s")
        list(sandbox_image.push(Pool([Engine(EngineSpec(), 1, engine), Engine(spec, 1)]), image))
        yield spec, certs
    finally:
        try:
            client = connect(spec)
            for c in client.containers.list(all=True, filters={"label": LABEL}):
                c.remove(force=True)
            for v in client.volumes.list(filters={"label": LABEL}):
                v.remove(force=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def test_the_engines_own_ca_decides_whatever_bundle_the_environment_names(tls_engine, monkeypatch):
    # Seen failing: with REQUESTS_CA_BUNDLE set (as on this machine) requests put the system bundle in place of
    # the engine's CA and every TLS engine was "not answering" (CERTIFICATE_VERIFY_FAILED).
    spec, certs = tls_engine
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    assert connect(spec).version()["ApiVersion"]
    stranger = EngineSpec(url=spec.url, name="tls", tls_cert_path=str(certs / "other"))  # another CA's certificates
    with pytest.raises(EngineUnavailable, match="does not answer"):
        connect(stranger)


def test_folds_run_on_a_tls_engine_score_as_on_the_local_engine(tls_engine, heart_task, engine, image):
    spec, _ = tls_engine
    source = candidate("slow_baseline.py", SLEEP=0.1)
    local = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=engine)
    pool = Pool([Engine(EngineSpec(), 1, engine), Engine(spec, 1)])
    spread = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=pool)
    assert spread.verdict == local.verdict == "ok", spread.reason + spread.stderr_tail
    assert spread.fold_scores == local.fold_scores
    assert {job["engine"] for job in spread.jobs.values()} == {"local", "tls"}
    assert own_leftovers(connect(spec)) == ([], [])


def find_sshd() -> str:
    """The system's sshd, or the one .ci/setup unpacked from Debian's package (nothing installed or started)."""
    for path in (shutil.which("sshd") or "", "/usr/sbin/sshd", str(REPO / ".venv" / "opt" / "openssh" / "usr" / "sbin" / "sshd")):
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail("no sshd: `bash .ci/setup` unpacks Debian's openssh-server into .venv/opt/openssh for this test")


def ssh_sessions_of_this_process() -> list[int]:
    """The pids of the `ssh ... docker system dial-stdio` processes this process started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"dial-stdio" in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def ssh_engine():
    """An sshd on 127.0.0.1 that lets root in with a key made here; `ssh` on PATH uses this test's config."""
    d = Path(tempfile.mkdtemp(prefix="arctl-ssh-"))
    for key in ("hostkey", "clientkey"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True)
    (d / "authorized_keys").write_bytes((d / "clientkey.pub").read_bytes())
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nAuthorizedKeysFile {d}/authorized_keys\n"
        f"PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\nStrictModes no\n"
        f"PidFile {d}/sshd.pid\n")
    (d / "ssh_config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {d}/clientkey\n  IdentitiesOnly yes\n  BatchMode yes\n"
        f"  StrictHostKeyChecking no\n  UserKnownHostsFile {d}/known_hosts\n")
    (d / "bin").mkdir()
    (d / "bin" / "ssh").write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {d}/ssh_config "$@"\n')
    (d / "bin" / "ssh").chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    proc = subprocess.Popen([find_sshd(), "-D", "-f", str(d / "sshd_config"), "-E", str(d / "sshd.log")])
    try:
        yield f"ssh://root@127.0.0.1:{port}", str(d / "bin"), d / "sshd.log"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(d, ignore_errors=True)


def test_folds_run_through_an_ssh_engine_score_as_on_the_local_engine(ssh_engine, heart_task, engine, image,
                                                                      monkeypatch):
    # Seen failing: without paramiko installed the docker SDK refused every ssh:// engine, even with its own
    # ssh client ("Install paramiko package to enable ssh:// support"); arctl now depends on docker[ssh].
    url, ssh_bin, sshd_log = ssh_engine
    monkeypatch.setenv("PATH", f"{ssh_bin}:{os.environ['PATH']}")
    spec = EngineSpec(url=url, name="ssh")
    for _ in range(60):  # sshd takes a moment to listen
        try:
            connect(spec).close()
            break
        except EngineUnavailable:
            time.sleep(0.5)
    source = candidate("slow_baseline.py", SLEEP=0.1)
    local = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=engine)
    remote = Engine(spec, 2)
    sessions = sshd_log.read_text().count("Accepted publickey")
    try:
        through_ssh = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=Pool([remote]))
        opened = sshd_log.read_text().count("Accepted publickey") - sessions
        # A session that ended meanwhile (a network drop, sshd restarted) is not reused: the next call logs in.
        ended = ssh_sessions_of_this_process()
        assert ended
        for pid in ended:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert remote.client.ping()
    finally:  # closed while sshd still runs: at exit a pooled ssh connection would write into a dead pipe
        remote.client.close()
    assert through_ssh.verdict == local.verdict == "ok", through_ssh.reason + through_ssh.stderr_tail
    assert through_ssh.fold_scores == local.fold_scores
    assert {job["engine"] for job in through_ssh.jobs.values()} == {"ssh"}
    # Sessions are reused: the docker SDK's ssh client logged in again for every API call, 91 times for this
    # evaluation (docker/docker-py#2966); now 7, one per request made at the same time.
    assert 0 < opened <= 16, f"{opened} ssh sessions for one evaluation"
