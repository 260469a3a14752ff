"""Evaluate one train.py: static checks, fold jobs in the sandbox, host-side scoring."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from arctl import checks, paths, scoring
from arctl.prepare import TEST_JOB, PreparedTask
from arctl.sandbox import engine as docker_engine
from arctl.sandbox import image as sandbox_image
from arctl.sandbox import pool as sandbox_pool
from arctl.sandbox import preread, runner
from arctl.sandbox.policy import Limits
from arctl.sandbox.verdict import Verdict, worst
from arctl.untrusted import clean


@dataclasses.dataclass
class Evaluation:
    verdict: Verdict
    metric: str
    greater_is_better: bool
    fold_scores: dict[str, float]
    seconds: float
    candidate_sha256: str
    hypothesis: str = ""
    reason: str = ""
    stderr_tail: str = ""
    jobs: dict[str, dict] = dataclasses.field(default_factory=dict)
    image_id: str = ""
    harness_sha256: str = ""
    task_key: str = ""
    data_sha256: str = ""  # of the job files actually mounted
    libraries: dict[str, str] = dataclasses.field(default_factory=dict)
    test_sealed: bool = False

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.fold_scores.values()) if self.verdict == "ok" else None

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["mean"] = self.mean
        return d


def harness_sha256() -> str:
    h = hashlib.sha256()
    for p in sorted(runner.HARNESS_DIR.rglob("*.py")):
        h.update(p.relative_to(runner.HARNESS_DIR).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def evaluate(source: bytes, task: PreparedTask, image: str, limits: Limits,
             with_test: bool = False, engine=None, warm: list | None = None) -> Evaluation:
    """Evaluate a candidate's source. Never raises for anything the candidate does.

    limits: from the workspace's settings (Settings.limits), so every command judges alike.
    warm: containers started ahead with runner.warm_up (same image and limits); used up here.
    """
    started = time.monotonic()
    result = Evaluation(verdict=Verdict.OK, metric=task.spec.metric, greater_is_better=task.spec.greater_is_better,
                        fold_scores={}, seconds=0.0, candidate_sha256=hashlib.sha256(source).hexdigest(),
                        hypothesis=checks.hypothesis(source), harness_sha256=harness_sha256(), task_key=task.key)
    problems = checks.static_problems(source)
    if problems:
        if warm:
            runner.discard(engine, image, warm)
        result.verdict, result.reason = Verdict.REJECTED, "; ".join(problems)
        return result

    engine = sandbox_pool.of(engine, limits.concurrency)  # one docker client, or the settings' pool of engines
    for client in engine.clients():
        docker_engine.remove_leftovers(client)
    result.image_id = engine.first_live().images.get(image).id
    result.libraries = sandbox_image.versions(engine.first_live(), result.image_id, paths.home() / "images")
    result.data_sha256 = task.jobs_sha256()
    if limits.cache_defence and not isinstance(warm, preread.Warmed):  # no read of the image may be news to the cache
        for client in engine.clients():  # each engine's host has its own page cache
            preread.preread(client, image, limits)
    jobs = [runner.Job(j, task.job_dir(j)) for j in task.fold_jobs]
    if with_test:
        jobs.append(runner.Job(TEST_JOB, task.job_dir(TEST_JOB)))
    with candidate_dir(source) as cand_dir:
        outcomes = runner.run_jobs(engine, image, cand_dir, jobs, limits, warm)

    test_score = None
    for name, out in outcomes.items():
        if out.verdict is Verdict.OK:
            labels = task.labels(name)
            try:
                preds = scoring.parse_predictions(out.output, labels.index, task.prediction_columns,
                                                  scoring.METRICS[task.spec.metric].probabilities)
                value = scoring.score(task.spec.metric, labels, preds)
            except scoring.InvalidPredictions as e:
                out.verdict, out.reason = Verdict.INVALID, str(e)
            except Exception as e:  # the predictions are hostile input: any failure to score them is theirs
                out.verdict, out.reason = Verdict.INVALID, f"the predictions could not be scored ({type(e).__name__})"
            else:
                if name == TEST_JOB:
                    test_score = value
                else:
                    result.fold_scores[name] = value
        result.jobs[name] = {"verdict": str(out.verdict), "seconds": round(out.seconds, 3), "exit_code": out.exit_code,
                             "reason": clean(out.reason, 1024), "phases": out.phases, "engine": out.engine,
                             **({"attempts": out.attempts} if out.attempts else {})}
    folds = [outcomes[j] for j in task.fold_jobs]
    telling = next(o for o in folds if o.verdict is worst(o.verdict for o in folds))
    result.stderr_tail = telling.stderr_tail
    if telling.verdict is not Verdict.OK:
        result.verdict, result.reason = telling.verdict, clean(f"{telling.name}: {telling.reason}", 4096)
        result.fold_scores = {}
    elif with_test and test_score is not None:
        seal(task, result, test_score)
        result.test_sealed = True
    result.seconds = time.monotonic() - started
    return result


@contextlib.contextmanager
def candidate_dir(source: bytes):
    """A read-only directory holding the candidate as train.py, for the jobs' /candidate mount."""
    with tempfile.TemporaryDirectory(prefix="arctl-candidate-") as cand:
        cand_dir = Path(cand)
        (cand_dir / "train.py").write_bytes(source)
        os.chmod(cand_dir / "train.py", 0o444)
        os.chmod(cand_dir, 0o555)
        try:
            yield cand_dir
        finally:
            os.chmod(cand_dir, 0o755)


def seal(task: PreparedTask, result: Evaluation, test_score: float) -> None:
    """Record a test score host-side, outside every workspace; never shown unless revealed."""
    task.sealed.mkdir(parents=True, exist_ok=True)
    record = {"time": time.time(), "candidate_sha256": result.candidate_sha256, "metric": result.metric,
              "test": test_score, "mean_validation": result.mean}
    with open(task.sealed / "test_results.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def sealed_results(task: PreparedTask) -> list[dict]:
    path = task.sealed / "test_results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

