"""The installed `arctl` command, run as a user would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HEART_DATA, REPO

ARCTL = str(Path(sys.executable).with_name("arctl"))
BASELINE = REPO / "artifact" / "train.py"


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


def test_eval_json_of_a_file(workspace):
    out = json.loads(arctl("eval", "train.py", "--json", cwd=workspace).stdout)
    assert out["verdict"] == "ok"
    assert len(out["fold_scores"]) == 5 and 0.85 <= out["mean"] <= 0.95
    assert out["image_id"].startswith("sha256:") and len(out["harness_sha256"]) == 64


def test_eval_of_a_git_revision_matches_the_file(workspace):
    by_rev = json.loads(arctl("eval", "HEAD", "--json", cwd=workspace).stdout)
    by_file = json.loads(arctl("eval", "train.py", "--json", cwd=workspace).stdout)
    assert by_rev["fold_scores"] == by_file["fold_scores"]


def test_summary_shows_folds_and_mean(workspace):
    proc = arctl("eval", "train.py", cwd=workspace)
    assert "fold4" in proc.stdout and "mean roc_auc 0.8" in proc.stdout


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


def test_failed_candidate_exits_non_zero_with_the_reason(workspace, tmp_path):
    bad = tmp_path / "train.py"
    bad.write_text("def build_pipeline(:\n")
    proc = arctl("eval", str(bad), cwd=workspace, check=False)
    assert proc.returncode == 1 and "rejected" in proc.stdout and "does not parse" in proc.stdout


def test_unknown_target_is_a_clear_error(workspace):
    proc = arctl("eval", "no-such-thing", cwd=workspace, check=False)
    assert proc.returncode == 2 and "neither a file nor a git revision" in proc.stderr


def test_eval_before_prepare_says_to_prepare(tmp_path):
    proc = arctl("eval", str(BASELINE), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "run `arctl prepare`" in proc.stderr


def test_missing_docker_engine_is_a_clear_error(workspace):
    proc = arctl("eval", "train.py", cwd=workspace, env={"DOCKER_HOST": "unix:///nonexistent.sock"}, check=False)
    assert proc.returncode == 2 and "no Docker engine is reachable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fresh_venv_install_gives_a_working_cli(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(REPO)],
                   check=True, timeout=600)
    proc = subprocess.run([str(venv / "bin" / "arctl"), "--help"], capture_output=True, text=True, check=True)
    assert "prepare" in proc.stdout and "eval" in proc.stdout
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "arctl" / "harness" / "run_job.py").is_file()
    assert not (site / "controller").exists() and not (site / "sandbox").exists()
