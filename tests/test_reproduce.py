"""Reproducible grading: compose.yaml with Docker alone, `arctl verify`, `arctl report`, `arctl doctor`."""

from __future__ import annotations

import json
import os
import subprocess

import git
import pytest
from PIL import Image

from arctl import prepare, tasks

from conftest import ARTIFACT, HEART_DATA, REPO, compose_run
from test_cli import arctl

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def run_ws(tmp_path_factory, heart_task, image):
    """A workspace with a short catalog run: baseline, a kept and a discarded candidate."""
    root = tmp_path_factory.mktemp("rep") / "research"
    arctl("init", str(root), cwd=root.parent)
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=root)
    arctl("run", "demo", "--agent", "catalog", "--max-iters", "3", cwd=root)
    return root


def rows(ws, name="demo"):
    return [r for r in map(json.loads, (ws / "runs" / name / "ledger.jsonl").read_text().splitlines()) if "event" not in r]


def test_compose_grading_matches_arctl_eval(run_ws, image, tmp_path):
    kept = [r for r in rows(run_ws) if r["status"] == "KEPT"][-1]
    candidate = tmp_path / "train.py"
    candidate.write_text(git.Repo(run_ws).git.show(f"{kept['commit']}:train.py"))
    secret = prepare.row_secret(prepare.prepare(tasks.HEART, HEART_DATA))  # the same folds as this machine's
    env = {**os.environ, "ARCTL_DATA": str(HEART_DATA), "CANDIDATE": str(candidate), "ARCTL_IMAGE": image,
           "ARCTL_ROW_SECRET": secret}
    project = ["docker-compose", "-p", f"arctltest{os.getpid()}"]
    try:
        proc = subprocess.run([*project, "run", "--rm", "grade"], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:  # clean-up needs no variables at all (as the README says to run it)
        plain = {k: v for k, v in os.environ.items() if k not in ("ARCTL_DATA", "CANDIDATE", "ARCTL_IMAGE")}
        down = subprocess.run([*project, "down", "-v"], cwd=REPO, env=plain, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    graded = dict(line.split("  roc_auc ") for line in proc.stdout.splitlines() if line.startswith("fold"))
    by_eval = json.loads(arctl("eval", kept["commit"], "--json", cwd=run_ws).stdout)
    assert {k: float(v) for k, v in graded.items()} == pytest.approx(by_eval["fold_scores"], abs=1e-6)
    assert {k: float(v) for k, v in graded.items()} == pytest.approx(kept["folds"], abs=1e-6)
    assert f"mean roc_auc {by_eval['mean']:.6f}" in proc.stdout


def test_compose_grading_without_data_says_to_set_it(image, monkeypatch):
    monkeypatch.delenv("ARCTL_DATA", raising=False)
    proc = compose_run("split", "nodata", timeout=300, ARCTL_IMAGE=image)
    assert proc.returncode != 0 and "set ARCTL_DATA to the task's data file" in proc.stderr + proc.stdout


def test_verify_passes_on_an_untouched_run(run_ws):
    proc = arctl("verify", "demo", cwd=run_ws)
    assert "all 2 kept commits reproduce" in proc.stdout


def test_verify_from_git_notes_in_a_fresh_clone(run_ws, tmp_path):
    clone = tmp_path / "clone"
    git.Repo.clone_from(run_ws, clone, branch="autoresearch/demo")
    repo = git.Repo(clone)
    repo.git.fetch("origin", "refs/notes/arctl/*:refs/notes/arctl/*")
    arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=clone)
    proc = arctl("verify", "demo", "--from-notes", cwd=clone)
    assert "all 2 kept commits reproduce" in proc.stdout


def test_verify_fails_naming_the_commit_after_the_ledger_is_tampered_with(run_ws):
    path = run_ws / "runs" / "demo" / "ledger.jsonl"
    original = path.read_text()
    lines = [json.loads(line) for line in original.splitlines()]
    kept = next(r for r in lines if r["status"] == "KEPT")
    kept["folds"]["fold2"] += 0.01
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    try:
        proc = arctl("verify", "demo", cwd=run_ws, check=False)
    finally:
        path.write_text(original)
    assert proc.returncode == 1
    assert f"{kept['commit'][:10]}: DOES NOT REPRODUCE" in proc.stdout
    assert "1 of 2 kept commits do not reproduce: " + kept["commit"][:10] in proc.stdout


def test_verify_fails_and_names_the_data_hash_after_the_data_is_tampered_with(run_ws, tmp_path):
    home = tmp_path / "home"
    env = {"ARCTL_HOME": str(home)}
    state = run_ws / ".arctl" / "prepared.json"
    original = state.read_text()
    try:
        arctl("prepare", "--data", str(HEART_DATA), "--no-check", cwd=run_ws, env=env)
        train = next(home.glob("tasks/heart-*/jobs/fold1/train.csv"))
        lines = train.read_text().splitlines()
        header = lines[0].split(",")
        target = header.index("__target__")
        flipped = []
        for line in lines[1:]:
            cells = line.split(",")
            cells[target] = str(1 - int(float(cells[target])))  # flip every training label of fold 1
            flipped.append(",".join(cells))
        train.write_text("\n".join([lines[0], *flipped]) + "\n")
        proc = arctl("verify", "demo", cwd=run_ws, env=env, check=False)
    finally:
        state.write_text(original)
    assert proc.returncode == 1
    assert "DOES NOT REPRODUCE" in proc.stdout and "data_sha256 differed" in proc.stdout


def test_report_plots_every_iteration_and_tabulates_the_ledger(run_ws):
    arctl("report", "demo", cwd=run_ws)
    png = run_ws / "runs" / "demo" / "report.png"
    with Image.open(png) as im:
        im.load()
        assert im.format == "PNG" and im.size[0] > 400
        assert im.text["arctl:points"] == str(len(rows(run_ws)))
    md = (run_ws / "runs" / "demo" / "report.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| iter")]
    assert [(int(t.split("|")[1]), t.split("|")[6].strip()) for t in table] == \
           [(r["iter"], r["status"]) for r in rows(run_ws)]
    kept = [r for r in rows(run_ws) if r["status"] == "KEPT"]
    assert all(f"### iteration {r['iter']}: {r['hypothesis']}" in md for r in kept)
    assert "```diff" in md and "+++ b/train.py" in md
    assert "noise: keep if the mean paired per-fold gain" in md
    assert "sealed" in md


def test_reveal_test_is_recorded_and_refused_without_a_kept_commit(run_ws, tmp_path):
    proc = arctl("report", "demo", "--reveal-test", cwd=run_ws)
    assert "candidates were tried" in proc.stdout
    events = [json.loads(line) for line in (run_ws / "runs" / "demo" / "ledger.jsonl").read_text().splitlines()]
    reveal = [e for e in events if e.get("event") == "reveal"][-1]
    assert reveal["tried"] == 3 and {r["iter"] for r in reveal["revealed"]} == {0, 1}
    assert all(0.5 < r["test"] <= 1.0 and f"{r['test']:.4f}" in proc.stdout for r in reveal["revealed"])

    arctl("run", "baseline-only", "--max-iters", "1", cwd=run_ws)
    git.Repo(run_ws).git.checkout("autoresearch/demo")
    refused = arctl("report", "baseline-only", "--reveal-test", cwd=run_ws, check=False)
    assert refused.returncode == 2 and "no kept commit" in refused.stderr


def test_doctor_reports_what_is_there_and_what_to_do(run_ws):
    proc = arctl("doctor", cwd=run_ws, env={"ANTHROPIC_API_KEY": ""})
    assert "Docker engine" in proc.stdout and "sandbox image" in proc.stdout and "prepared data" in proc.stdout
    assert "scikit-learn 1.9.1" in proc.stdout and "compose (offline)" in proc.stdout
    broken = arctl("doctor", cwd=run_ws, env={"DOCKER_HOST": "unix:///nonexistent.sock"}, check=False)
    assert broken.returncode == 1 and "NO  Docker engine" in broken.stdout and "→ start it" in broken.stdout


def test_every_evaluation_records_its_provenance(run_ws):
    for r in rows(run_ws):
        assert r["image_id"].startswith("sha256:") and len(r["harness_sha256"]) == 64 and len(r["data_sha256"]) == 64
        assert r["libraries"]["scikit-learn"] == "1.9.1" and r["libraries"]["python"].startswith("3.11")
    note = json.loads(git.Repo(run_ws).git.notes("--ref", "arctl/demo", "show", rows(run_ws)[1]["commit"]))
    assert note["folds"] == rows(run_ws)[1]["folds"] and note["run"] == "demo"


def test_workflow_file_is_valid_yaml_that_runs_verify():
    import yaml

    flow = yaml.safe_load((ARTIFACT / "ci" / "arctl-verify.yml").read_text())
    steps = " ".join(str(s.get("run", "")) for s in flow["jobs"]["verify"]["steps"])
    assert "arctl verify" in steps and "refs/notes/arctl" in steps and "arctl prepare" in steps
