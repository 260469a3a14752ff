"""python -m bench.quality [--quick] [--agent claude] — research quality across datasets, into docs/benchmarks.md.

For each dataset available offline and each split seed: the baseline, FLAML one-shot with the compositional
agent's wall clock, and the ratchet with each agent, every one scored on the sealed test split (revealed here,
for the benchmark only), with the number of candidates tried and the wall clock. A test difference within one
standard error counts as a tie; the error comes from the paired per-fold validation differences of the two
candidates, scaled from a fold's size to the test split's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import git
import numpy as np
import pandas as pd
from sklearn import datasets as sk

from arctl import evaluate, prepare, tasks
from arctl.agents import choose
from arctl.artifact import ROOT as ARTIFACT
from arctl.ratchet import Ratchet
from arctl.sandbox.policy import Limits
from arctl.settings import Agent as AgentSettings
from arctl.settings import Budget, Settings
from arctl.stopping import StopRules
from arctl.workspace import init as init_workspace
from bench import sandbox

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
CATALOG = ARTIFACT / "catalog"


def _sklearn(loader, name: str, task_type: str, metric: str, where: Path) -> tasks.TaskSpec:
    frame = loader(as_frame=True).frame
    path = where / f"{name}.csv"
    frame.to_csv(path, index=False)
    return tasks.TaskSpec(name=name, url=str(path), sha256=None, target="target", task_type=task_type, metric=metric)


def _interactions(where: Path, rows: int = 1500) -> tasks.TaskSpec:
    """Binary; the signal is mostly a product of two columns, which no additive model sees."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 8))
    logit = 1.5 * x[:, 0] * x[:, 1] + 0.7 * x[:, 2] - 0.5 * x[:, 3] ** 2 + rng.normal(scale=0.8, size=rows)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(8)]).assign(y=(logit > 0).astype(int))
    frame.to_csv(where / "interactions.csv", index=False)
    return tasks.TaskSpec(name="interactions", url=str(where / "interactions.csv"), sha256=None, target="y")


def _text(where: Path, rows: int = 2000) -> tasks.TaskSpec:
    """Binary; numbers with gaps, a city with its own effect, a segment that interacts, near-unique notes."""
    rng = np.random.default_rng(12)
    cities = np.array([f"city_{i:02d}" for i in range(15)])
    city = rng.choice(cities, size=rows, p=np.linspace(2, 0.2, 15) / np.linspace(2, 0.2, 15).sum())
    effect = dict(zip(cities, rng.normal(scale=1.0, size=15), strict=True))
    segment = rng.choice(["retail", "pro", "public", "other"], size=rows)
    x = rng.normal(size=(rows, 6))
    logit = (np.vectorize(effect.get)(city) + x[:, 0] + 1.2 * x[:, 1] * (segment == "pro") + 0.5 * x[:, 2]
             + rng.normal(scale=0.8, size=rows))
    frame = pd.DataFrame(x, columns=[f"n{i}" for i in range(6)])
    frame["city"], frame["segment"] = city, segment
    frame["note"] = [f"ticket {i}" for i in rng.integers(0, 5 * rows, rows)]
    frame["vip"] = rng.random(rows) < 0.2
    frame.loc[rng.random(rows) < 0.2, "n0"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "city"] = None
    frame["churned"] = np.where(logit > 0, "yes", "no")
    frame.to_csv(where / "text.csv", index=False)
    return tasks.TaskSpec(name="text", url=str(where / "text.csv"), sha256=None, target="churned", positive_class="yes")


def datasets(where: Path) -> dict[str, tasks.TaskSpec]:
    return {
        "heart": dataclasses.replace(tasks.HEART, url=str(tasks.locate_data(tasks.HEART))),
        "breast_cancer": _sklearn(sk.load_breast_cancer, "breast_cancer", "binary", "roc_auc", where),
        "wine": _sklearn(sk.load_wine, "wine", "multiclass", "log_loss", where),
        "digits": _sklearn(sk.load_digits, "digits", "multiclass", "log_loss", where),
        "diabetes": _sklearn(sk.load_diabetes, "diabetes", "regression", "rmse", where),
        "interactions": _interactions(where),
        "text": _text(where),
    }


def flaml(task_type: str, seconds: int) -> bytes:
    """The catalog's FLAML candidate with another time budget per fit."""
    path = CATALOG / ("regression/08_flaml.py" if task_type == "regression" else "classification/12_flaml.py")
    text = path.read_text()
    assert "time_budget=15)" in text
    return text.replace("time_budget=15)", f"time_budget={seconds})").encode()


def scored(task, image, engine, source: bytes) -> dict:
    """Validation folds and the sealed test score of one candidate."""
    result = evaluate.evaluate(source, task, image, Limits(deadline=1800), with_test=True, engine=engine)
    if result.verdict != "ok":
        return {"val": None, "test": None, "folds": {}, "error": f"{result.verdict}: {result.reason}"}
    sealed = {r["candidate_sha256"]: r["test"] for r in evaluate.sealed_results(task)}
    return {"val": result.mean, "test": sealed[result.candidate_sha256], "folds": result.fold_scores}


def ratchet(task, image, engine, kind: str, iters: int, home: Path) -> tuple[bytes, int, float]:
    """A run of one agent: the best train.py, the number of candidates tried, the wall clock."""
    ws = init_workspace(Path(tempfile.mkdtemp(dir=home)) / "ws", task_type=task.spec.task_type)
    agent, _ = choose(AgentSettings(kind=kind), task.spec.task_type)
    started = time.monotonic()
    Ratchet(ws, "bench", agent, Settings(budget=Budget(deadline=300)), StopRules(max_iters=iters), task, image,
            echo=lambda row: print(f"    {kind} iter {row.iter} {row.status} {row.val}", flush=True),
            say=lambda line: None, engine=engine).run()
    seconds = time.monotonic() - started
    rows = [json.loads(line) for line in (ws / "runs" / "bench" / "ledger.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "event" not in r]
    best = [r for r in rows if r["status"] in ("BASELINE", "KEPT")][-1]
    return git.Repo(ws).commit(best["commit"]).tree["train.py"].data_stream.read(), len(rows), seconds


def noise(a: dict, b: dict, task) -> float:
    """One standard error of a test-score difference, from the paired validation folds, scaled to the test size."""
    diffs = [a["folds"][k] - b["folds"][k] for k in a["folds"] if k in b["folds"]]
    if len(diffs) < 2:
        return 0.0
    per_fold = statistics.stdev(diffs)  # the spread of a difference measured on one fold's rows
    fold_rows = task.n_train / task.spec.folds
    return per_fold * math.sqrt(fold_rows / task.n_test)


def one(spec, seed: int, agents: list[str], iters: int, image, engine, home: Path) -> dict:
    task = prepare.prepare(dataclasses.replace(spec, seed=seed))
    base = ARTIFACT / ("train_regression.py" if spec.task_type == "regression" else "train.py")
    out = {"dataset": spec.name, "seed": seed, "metric": spec.metric, "greater_is_better": spec.greater_is_better,
           "n_train": task.n_train, "n_test": task.n_test, "methods": {}}
    out["methods"]["baseline"] = {**scored(task, image, engine, base.read_bytes()), "tried": 1, "seconds": None}
    for kind in agents:
        source, tried, seconds = ratchet(task, image, engine, kind, iters, home)
        out["methods"][kind] = {**scored(task, image, engine, source), "tried": tried, "seconds": seconds}
    # FLAML one-shot with the first agent's wall clock: 6 fits (the folds and the test fit) in waves of cpu_count.
    clock = out["methods"][agents[0]]["seconds"]
    waves = math.ceil((spec.folds + 1) / (os.cpu_count() or 1))
    budget = max(5, int((clock - 15) / waves))
    out["methods"]["flaml"] = {**scored(task, image, engine, flaml(spec.task_type, budget)), "tried": 1,
                               "seconds": clock, "budget_per_fit": budget}
    for name, m in out["methods"].items():
        print(f"  {spec.name} seed {seed} {name}: val {m['val']} test {m['test']} tried {m['tried']}", flush=True)
    return out


def verdict(result: dict, method: str, task_noise: float) -> str:
    a, b = result["methods"][method], result["methods"]["flaml"]
    if a["test"] is None:
        return "loss"
    if b["test"] is None:
        return "win"
    gain = (a["test"] - b["test"]) * (1 if result["greater_is_better"] else -1)
    return "tie" if abs(gain) <= task_noise else ("win" if gain > 0 else "loss")


def table(results: list[dict], agents: list[str], quick: bool) -> str:
    methods = ["baseline", "flaml", *agents]
    lines = [START, "## Research quality across datasets", "",
             f"`python -m bench.quality{' --quick' if quick else ''}`: per dataset and split seed, the sealed test "
             "metric of each method (revealed for the benchmark only), the candidates it tried and its wall clock. "
             "FLAML gets the wall clock of the first agent's run in one shot. A difference against FLAML within one "
             "standard error (paired validation folds, scaled to the test split's size) is a tie.", "",
             "| dataset | seed | metric | " + " | ".join(methods) + " | " +
             " | ".join(f"{a} vs FLAML" for a in agents) + " |",
             "|---|---:|---|" + "---:|" * len(methods) + "---|" * len(agents)]
    tally = {a: {"win": 0, "tie": 0, "loss": 0} for a in agents}
    below_baseline = {a: 0 for a in agents}
    for r in results:
        cells = []
        for m in methods:
            v = r["methods"][m]
            cells.append("crashed" if v["test"] is None else
                         f"{v['test']:.4f} ({v['tried']}, {v['seconds']:.0f} s)" if v["seconds"] else f"{v['test']:.4f}")
        outcomes = []
        for a in agents:
            n = noise(r["methods"][a], r["methods"]["flaml"], r["task"]) if r["methods"][a]["folds"] else 0.0
            outcome = verdict(r, a, n)
            tally[a][outcome] += 1
            outcomes.append(f"{outcome} (±{n:.4f})")
            base, mine = r["methods"]["baseline"]["test"], r["methods"][a]["test"]
            nb = noise(r["methods"][a], r["methods"]["baseline"], r["task"])
            sign = 1 if r["greater_is_better"] else -1
            if mine is None or (base is not None and sign * (mine - base) < -nb):
                below_baseline[a] += 1
        direction = "↑" if r["greater_is_better"] else "↓"
        lines.append(f"| {r['dataset']} | {r['seed']} | {r['metric']} {direction} | " + " | ".join(cells) + " | "
                     + " | ".join(outcomes) + " |")
    lines += ["", "Cells: test metric (candidates tried, wall clock). Against FLAML one-shot:", ""]
    for a in agents:
        t = tally[a]
        lines.append(f"- **{a}**: {t['win']} wins, {t['tie']} ties within noise, {t['loss']} losses; below the "
                     f"baseline by more than the noise in {below_baseline[a]} of {len(results)}.")
    return "\n".join(lines + ["", END]) + "\n"


def write(markdown: str, out: Path) -> None:
    """Replace the quality section of docs/benchmarks.md (or append it), leaving the rest as it is."""
    text = out.read_text() if out.exists() else "# arctl benchmarks\n"
    if START in text and END in text:
        text = text[:text.index(START)] + markdown + text[text.index(END) + len(END):].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + markdown
    out.write_text(text)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 datasets, 1 seed, few iterations (a smoke run)")
    parser.add_argument("--agent", action="append", default=[], help="agents to compare (default compose and catalog; "
                        "add claude when ANTHROPIC_API_KEY is set)")
    parser.add_argument("--iters", type=int, help="iterations per run, baseline included")
    parser.add_argument("--datasets", help="comma-separated subset of: " + "heart,breast_cancer,wine,digits,diabetes,"
                        "interactions,text")
    parser.add_argument("--seeds", help="comma-separated split seeds (default 42 with --quick, else 42,7,2026)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    agents = args.agent or ["compose", "catalog"]
    if "claude" in agents and not os.environ.get("ANTHROPIC_API_KEY"):
        raise SystemExit("--agent claude needs ANTHROPIC_API_KEY")
    home, engine, image = sandbox("arctl-quality-")
    specs = datasets(home)
    names = args.datasets.split(",") if args.datasets else (["text", "heart", "diabetes"] if args.quick else list(specs))
    seeds, iters = ([42], args.iters or 8) if args.quick else ([42, 7, 2026], args.iters or 16)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else seeds
    results = []
    for name in names:
        for seed in seeds:
            print(f"{name} seed {seed}", flush=True)
            r = one(specs[name], seed, agents, iters, image, engine, home)
            r["task"] = prepare.prepare(dataclasses.replace(specs[name], seed=seed))
            results.append(r)
    markdown = table(results, agents, args.quick)
    write(markdown, args.out)
    for r in results:
        r.pop("task")
    args.out.with_name("benchmarks-quality.json").write_text(json.dumps(results, indent=2))
    print(markdown)


if __name__ == "__main__":
    main()
