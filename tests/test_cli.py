"""The installed `arctl` command, run as a user would run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ARTIFACT, HEART_DATA, REPO

ARCTL = str(Path(sys.executable).with_name("arctl"))
BASELINE = ARTIFACT / "train.py"


def arctl(*args, cwd, env=None, check=True):
    proc = subprocess.run([ARCTL, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"arctl {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, heart_task, image):
    ws = tmp_path_factory.mktemp("ws")
    shutil.copy(BASELINE, ws / "train.py")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=ws, check=True)
    subprocess.run(["git", "add", "train.py"], cwd=ws, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline"], cwd=ws, check=True)
    proc = arctl("prepare", "--data", str(HEART_DATA), cwd=ws)
    assert "verdict ok" in proc.stdout
    return ws


@pytest.mark.docker
def test_eval_json_of_a_file(workspace):
    out = json.loads(arctl("eval", "train.py", "--json", cwd=workspace).stdout)
    assert out["verdict"] == "ok"
    assert len(out["fold_scores"]) == 5 and 0.85 <= out["mean"] <= 0.95
    assert out["image_id"].startswith("sha256:") and len(out["harness_sha256"]) == 64


@pytest.mark.docker
def test_eval_of_a_git_revision_matches_the_file(workspace):
    by_rev = json.loads(arctl("eval", "HEAD", "--json", cwd=workspace).stdout)
    by_file = json.loads(arctl("eval", "train.py", "--json", cwd=workspace).stdout)
    assert by_rev["fold_scores"] == by_file["fold_scores"]


@pytest.mark.docker
def test_summary_shows_folds_and_mean(workspace):
    proc = arctl("eval", "train.py", cwd=workspace)
    assert "fold4" in proc.stdout and re.search(r"mean roc_auc 0\.\d{4}", proc.stdout)


@pytest.mark.docker
def test_with_test_seals_the_test_score_and_does_not_print_it(workspace, heart_task):
    before = (heart_task.sealed / "test_results.jsonl").read_text() if (heart_task.sealed / "test_results.jsonl").exists() else ""
    proc = arctl("eval", "train.py", "--with-test", "--json", cwd=workspace)
    out = json.loads(proc.stdout)
    assert out["test_sealed"] is True
    assert "test" not in out["fold_scores"] and "test_score" not in proc.stdout
    sealed = (heart_task.sealed / "test_results.jsonl").read_text()[len(before):]
    record = json.loads(sealed)
    assert 0.5 < record["test"] <= 1.0
    assert f"{record['test']}" not in proc.stdout


@pytest.mark.docker
def test_failed_candidate_exits_non_zero_with_the_reason(workspace, tmp_path):
    bad = tmp_path / "train.py"
    bad.write_text("def build_pipeline(:\n")
    proc = arctl("eval", str(bad), cwd=workspace, check=False)
    assert proc.returncode == 1 and "rejected" in proc.stdout and "does not parse" in proc.stdout


@pytest.mark.docker
def test_unknown_target_is_a_clear_error(workspace):
    proc = arctl("eval", "no-such-thing", cwd=workspace, check=False)
    assert proc.returncode == 2 and "neither a file nor a git revision" in proc.stderr


def test_eval_before_prepare_says_to_prepare(tmp_path):
    proc = arctl("eval", str(BASELINE), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "run `arctl prepare`" in proc.stderr


@pytest.mark.docker
def test_missing_docker_engine_is_a_clear_error(workspace):
    proc = arctl("eval", "train.py", cwd=workspace, env={"DOCKER_HOST": "unix:///nonexistent.sock"}, check=False)
    assert proc.returncode == 2 and "no Docker engine is reachable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_wheel_install_gives_a_working_cli_with_one_package(tmp_path):
    """A non-editable install (what users get): one `arctl` directory holding every part, no generic names."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(tmp_path / "dist"), str(REPO)], check=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("arctl-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--disable-pip-version-check", str(wheel)],
                   check=True, timeout=600)
    site = next((venv / "lib").glob("python*/site-packages"))
    # The dependencies come from the test environment (a plain path: its .pth files, the editable arctl among
    # them, are not read); arctl itself comes from the wheel.
    (site / "deps.pth").write_text(next(p for p in sys.path if p.endswith("site-packages")) + "\n")
    for part in ("harness/run_job.py", "sandbox/Dockerfile.sandbox", "sandbox/requirements.txt", "artifact/train.py",
                 "artifact/catalog/classification", "cli.py", "agents/claude.py"):
        assert (site / "arctl" / part).exists(), part
    assert not (site / "controller").exists() and not (site / "sandbox").exists()
    probe = "import arctl, arctl.sandbox.image as i; print(arctl.__file__, i.DOCKERFILE.is_file())"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""}).stdout
    assert out.startswith(str(site / "arctl")) and out.strip().endswith("True")
    proc = subprocess.run([str(venv / "bin" / "arctl"), "--help"], capture_output=True, text=True, check=True)
    assert "prepare" in proc.stdout and "eval" in proc.stdout


@pytest.mark.parametrize("command", [["status"], ["eval", "train.py"], ["run", "x"], ["verify", "x"], ["report", "x"],
                                     ["prepare", "--no-check"], ["doctor"]])
def test_a_malformed_arctl_toml_is_named_with_its_line_by_every_command(tmp_path, command):
    (tmp_path / "arctl.toml").write_text('[task]\nname = "heart"\n[[[\n')
    proc = arctl(*command, cwd=tmp_path, check=False, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert proc.returncode in (1, 2)
    assert "arctl.toml is not valid TOML" in proc.stderr + proc.stdout and "line 3" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
