"""A pool of real Docker engines: two extra dockerd on their own sockets and data roots (as
../shared/tools/fresh-machine starts one), the image pushed to them, a candidate's folds spread
over them, and one engine killed mid-run with no job lost or mis-scored."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import docker
import pytest

from arctl import evaluate
from arctl.sandbox import image as sandbox_image
from arctl.sandbox.engine import OWNER, owner_label
from arctl.sandbox.policy import LABEL, Limits
from arctl.sandbox.pool import Engine, EngineLost, EngineSpec, Pool

from conftest import candidate, own_leftovers

pytestmark = pytest.mark.docker
# Data roots persist between sessions, so the image is pushed once per machine.
ROOTS = Path(os.environ.get("ARCTL_TEST_ENGINES") or Path(tempfile.gettempdir()) / "arctl-test-engines")


class Dockerd:
    """One extra engine of our own; started and stopped by its process id only."""

    def __init__(self, name: str):
        self.name, self.root = name, ROOTS / name
        self.sock, self.exec_root = f"/tmp/arctl-{name}.sock", f"/tmp/arctl-{name}-exec"
        self.proc = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "dockerd.log", "ab")
        self.proc = subprocess.Popen(
            # Its own network namespace: a dockerd started with --bridge=none deletes the host's docker0, which
            # the machine's own engine needs (it broke test_network_probe_can_detect_a_network on CI).
            ["unshare", "--net", "dockerd", "--data-root", str(self.root / "docker"), "--exec-root", self.exec_root,
             "--pidfile", str(self.root / "dockerd.pid"), "-H", self.url, "--iptables=false", "--bridge=none"],
            stdout=log, stderr=subprocess.STDOUT)
        for _ in range(120):
            try:
                docker.DockerClient(base_url=self.url, timeout=5).ping()
                return
            except Exception:
                assert self.proc.poll() is None, f"dockerd {self.name} exited; see {self.root / 'dockerd.log'}"
                time.sleep(0.5)
        raise AssertionError(f"dockerd {self.name} did not answer within 60 s")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is not None:  # killed by a test: start it again so it cleans up its containers
            self.start()
        client = docker.DockerClient(base_url=self.url, timeout=30)
        for c in client.containers.list(all=True, filters={"label": LABEL}):
            c.remove(force=True)
        for v in client.volumes.list(filters={"label": LABEL}):
            v.remove(force=True)
        self.proc.terminate()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def engines(engine, image):
    if os.geteuid() != 0:
        pytest.fail("starting extra dockerd engines needs root (as ../shared/tools/fresh-machine does)")
    extra = [Dockerd("wt12-a"), Dockerd("wt12-b")]
    try:
        for d in extra:
            d.start()
        pushed = list(sandbox_image.push(Pool([Engine(EngineSpec(), 1, engine),
                                              *(Engine(EngineSpec(url=d.url, name=d.name), 1) for d in extra)]), image))
        yield extra, pushed
    finally:
        for d in extra:
            if d.proc is not None:
                d.stop()


def test_extra_engines_leave_the_machines_own_bridge_alone(engines, engine):
    """Seen failing on CI: two extra engines started with --bridge=none deleted docker0, so the machine's own
    engine could no longer start a container on its default network."""
    assert engine.networks.list(names=["bridge"]), "the machine's own engine has no default bridge network"
    assert Path("/sys/class/net/docker0").exists(), "an extra engine deleted the host's docker0 bridge"


def two_engine_pool(extra) -> Pool:
    return Pool([Engine(EngineSpec(url=d.url, name=d.name), 1) for d in extra])


def test_push_loads_the_same_image_into_engines_that_lack_it(engines, engine, image):
    extra, pushed = engines
    assert [name for name, _ in pushed] == ["local", "wt12-a", "wt12-b"]
    reference = engine.images.get(image).id
    for d in extra:
        assert docker.DockerClient(base_url=d.url).images.get(image).id == reference
    again = list(sandbox_image.push(Pool([Engine(EngineSpec(), 1, engine),
                                          Engine(EngineSpec(url=extra[0].url, name="a"), 1)]), image))
    assert again[1] == ("a", f"has {image} already")


def test_folds_spread_over_engines_score_as_on_the_local_engine(engines, heart_task, engine, image):
    extra, _ = engines
    source = candidate("slow_baseline.py", SLEEP=0.1)
    local = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=engine)
    pool = two_engine_pool(extra)
    spread = evaluate.evaluate(source, heart_task, image, Limits(deadline=120), engine=pool)
    assert spread.verdict == local.verdict == "ok", spread.reason + spread.stderr_tail
    assert spread.fold_scores == local.fold_scores
    assert {job["engine"] for job in spread.jobs.values()} == {"wt12-a", "wt12-b"}
    for d in extra:
        client = docker.DockerClient(base_url=d.url)
        assert own_leftovers(client) == ([], [])


def test_an_engine_lost_mid_run_loses_no_job_and_mis_scores_none(engines, heart_task, engine, image):
    extra, _ = engines
    source = candidate("slow_baseline.py", SLEEP=6.0)
    reference = evaluate.evaluate(candidate("slow_baseline.py", SLEEP=0.1), heart_task, image, Limits(deadline=120),
                                  engine=engine)
    victim = extra[1]
    victim_client = docker.DockerClient(base_url=victim.url)
    mine = {"label": [LABEL, f"{OWNER}={owner_label()}"]}
    killed = threading.Event()

    def kill_when_a_job_runs_there():
        for _ in range(600):
            running = [c for c in victim_client.containers.list(filters=mine) if "run_job.py" in " ".join(c.attrs["Args"])]
            if running and any(c.attrs["State"]["Running"] for c in running):
                time.sleep(3)  # the job has its files and is fitting
                victim.kill()
                killed.set()
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_when_a_job_runs_there, daemon=True)
    killer.start()
    result = evaluate.evaluate(source, heart_task, image, Limits(deadline=180), engine=two_engine_pool(extra))
    killer.join(timeout=5)
    assert killed.is_set(), "the engine was never seen running a job"
    assert result.verdict == "ok", result.reason + result.stderr_tail
    assert result.fold_scores == reference.fold_scores  # every fold scored, and scored right
    moved = {name: job for name, job in result.jobs.items() if job.get("attempts")}
    assert moved, "no job was running on the lost engine"
    for job in moved.values():
        assert job["engine"] == "wt12-a"
        assert [a["engine"] for a in job["attempts"]] == ["wt12-b"] and job["attempts"][0]["verdict"] == "infra"
    print(f"moved after the kill: {sorted(moved)}; engines: { {n: j['engine'] for n, j in result.jobs.items()} }")


def test_no_engine_left_is_an_error_not_a_verdict(engines, heart_task, image):
    extra, _ = engines
    dead = Pool([Engine(EngineSpec(url="unix:///tmp/arctl-no-such-engine.sock", name="gone"), 1)])
    with pytest.raises(EngineLost, match="run the command again"):
        evaluate.evaluate(candidate("slow_baseline.py", SLEEP=0.1), heart_task, image, Limits(deadline=60), engine=dead)


def test_doctor_checks_every_engine(engines, image, tmp_path):
    from arctl import doctor, settings

    extra, _ = engines
    for d in extra:
        if d.proc.poll() is not None:  # killed by the test above: started again, it answers again
            d.start()
    (tmp_path / "arctl.toml").write_text("[[engines]]\nslots = 1\n" + "".join(
        f'[[engines]]\nname = "{d.name}"\nurl = "{d.url}"\n' for d in extra)
        + '[[engines]]\nname = "gone"\nurl = "unix:///tmp/arctl-no-such-engine.sock"\n')
    found = doctor.engine_checks(settings.load(tmp_path), image)
    from test_cli import arctl

    pushed = arctl("image", "push", cwd=tmp_path, check=False)  # the command, over the same [[engines]]
    assert f"wt12-a: has {image} already" in pushed.stdout and f"wt12-b: has {image} already" in pushed.stdout
    assert pushed.returncode != 0 and "gone" in pushed.stderr and "does not answer" in pushed.stderr
    assert [(c.what, c.ok) for c in found] == [("engine local", True), ("engine wt12-a", True),
                                               ("engine wt12-b", True), ("engine gone", False)]
    assert "does not answer" in found[-1].detail and "[[engines]]" in found[-1].fix
