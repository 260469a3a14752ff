"""python -m bench [--quick] — writes docs/benchmarks.md and docs/benchmarks.json."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import git

from arctl import evaluate, prepare, tasks
from arctl.agents.catalog import CatalogAgent
from arctl.artifact import ROOT as ARTIFACT
from arctl.ratchet import Ratchet
from arctl.sandbox import runner
from arctl.sandbox.policy import Limits
from arctl.settings import Budget, Settings
from arctl.stopping import StopRules
from arctl.workspace import init as init_workspace
from bench import sandbox
from bench.quality import END as QUALITY_END
from bench.quality import START as QUALITY_START

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HEART = tasks.locate_data(tasks.HEART)  # $ARCTL_HEART_DATA, else arctl's download cache (see .ci/setup)
FLAML = (ARTIFACT / "catalog" / "classification" / "12_flaml.py").read_text()


def flaml(seconds: int) -> str:
    """The catalog's FLAML candidate with another time budget per fit."""
    assert "time_budget=15)" in FLAML
    return FLAML.replace("time_budget=15)", f"time_budget={seconds})")


CANDIDATES = {
    "baseline (logistic regression)": (ARTIFACT / "train.py").read_text(),
    "LightGBM, 3000 trees": (HERE / "candidates" / "lightgbm.py").read_text(),
    "FLAML, 30 s per fit": flaml(30),
}


def single_process(engine, image: str, task: prepare.PreparedTask, candidate: Path, cpus: float) -> dict:
    """Fit all folds in one process inside one container; time measured by that process itself."""
    out = engine.containers.run(
        image, ["python3", "-s", "-B", "/bench/single_process.py", str(task.spec.folds)], remove=True,
        volumes={str(HERE): {"bind": "/bench", "mode": "ro"}, str(candidate.parent): {"bind": "/candidate", "mode": "ro"},
                 str(task.root): {"bind": "/task", "mode": "ro"}},
        network_mode="none", user="65534:65534", nano_cpus=int(cpus * 1e9), mem_limit="4g",
        environment={"HOME": "/tmp", "PYTHONHASHSEED": "0", "MPLCONFIGDIR": "/tmp"}, tmpfs={"/tmp": "size=256m"},
        working_dir="/tmp")
    return json.loads(out.decode().strip().splitlines()[-1])


def isolation(engine, image, task, repeats: dict[str, int]) -> list[dict]:
    rows = []
    cpus = float(os.cpu_count() or 1)
    for label, text in CANDIDATES.items():
        with tempfile.TemporaryDirectory() as d:
            cand = Path(d) / "train.py"
            cand.write_text(text)
            os.chmod(d, 0o755)  # the container runs as nobody
            source = cand.read_bytes()
            plain, sandboxed, warmed, phases = [], [], [], []
            limits = Limits(deadline=600)
            for _ in range(repeats.get(label, 3)):  # interleaved: the machine's noise hits both sides alike
                a = single_process(engine, image, task, cand, cpus)
                b = evaluate.evaluate(source, task, image, limits, engine=engine)
                # (c) as in the ratchet: the containers were started during the agent's turn.
                slots = runner.warm_up(engine, image, limits, task.spec.folds).result()
                time.sleep(4)  # an agent's turn is longer than this
                c = evaluate.evaluate(source, task, image, limits, engine=engine, warm=slots)
                assert b.verdict == c.verdict == "ok", b.reason + b.stderr_tail + c.reason
                plain.append(a["seconds"])
                sandboxed.append(b.seconds)
                warmed.append(c.seconds)
                phases += [j["phases"] for j in b.jobs.values()]
                print(f"  {label}: single process {a['seconds']:.2f} s, sandbox {b.seconds:.2f} s, "
                      f"warm sandbox {c.seconds:.2f} s", flush=True)
        rows.append({"candidate": label, "runs": len(plain), "single_process_s": statistics.median(plain),
                     "sandbox_s": statistics.median(sandboxed), "warm_s": statistics.median(warmed),
                     "ratio": statistics.median(b / a for a, b in zip(plain, sandboxed, strict=True)),
                     "warm_ratio": statistics.median(c / a for a, c in zip(plain, warmed, strict=True)),
                     "where": where_time_goes(phases)})
    return rows


def where_time_goes(phases: list[dict]) -> dict[str, float]:
    """Median seconds per job in each phase of a sandboxed fold."""
    spans = {"container create + start": ("create", "start"),
             "interpreter + numpy/pandas import": ("start", "imported"),
             "warm-up imports (scikit-learn)": ("imported", "warm"),
             "waiting for the job (a CPU slot)": ("warm", "released"),
             "data load": ("released", "loaded"),
             "candidate import + fit + predict": ("loaded", "fitted"),
             "write, exit, detection": ("fitted", "exited"),
             "container removal": ("exited", "removed")}
    out = {}
    for name, (a, b) in spans.items():
        values = [p[b] - p[a] for p in phases if a in p and b in p]
        if values:
            out[name] = statistics.median(values)
    return out


def ratchet_run(task: prepare.PreparedTask, image: str, engine, iters: int, home: Path) -> tuple[Path, float]:
    ws = init_workspace(Path(tempfile.mkdtemp(dir=home)) / "ws")
    cfg = Settings(budget=Budget(deadline=180))
    started = time.monotonic()
    Ratchet(ws, "bench", CatalogAgent(), cfg, StopRules(max_iters=iters), task, image, echo=lambda row: None,
            say=lambda line: None, engine=engine).run()
    return ws, time.monotonic() - started


def ledger(ws: Path) -> list[dict]:
    return [r for r in map(json.loads, (ws / "runs" / "bench" / "ledger.jsonl").read_text().splitlines())
            if "event" not in r]


def test_score(task, image, engine, source: bytes) -> tuple[float, float]:
    result = evaluate.evaluate(source, task, image, Limits(deadline=900), with_test=True, engine=engine)
    assert result.verdict == "ok", result.reason
    sealed = {r["candidate_sha256"]: r["test"] for r in evaluate.sealed_results(task)}
    return result.mean, sealed[result.candidate_sha256]


def quality(engine, image, seeds: list[int], iters: int, home: Path) -> tuple[list[dict], list[dict]]:
    rows, overhead = [], []
    for seed in seeds:
        task = prepare.prepare(dataclasses.replace(tasks.HEART, seed=seed), HEART)
        base_val, base_test = test_score(task, image, engine, (ARTIFACT / "train.py").read_bytes())
        ws, seconds = ratchet_run(task, image, engine, iters, home)
        rows_ = ledger(ws)
        overhead += rows_[1:]
        best = [r for r in rows_ if r["status"] in ("BASELINE", "KEPT")][-1]
        source = git.Repo(ws).commit(best["commit"]).tree["train.py"].data_stream.read()
        r_val, r_test = test_score(task, image, engine, source)
        # FLAML one-shot with the ratchet's wall clock: 6 fits (5 folds + the test fit) run in 3 waves.
        budget = max(5, int((seconds - 15) / 3))
        f_val, f_test = test_score(task, image, engine, flaml(budget).encode())
        rows.append({"seed": seed, "ratchet_seconds": seconds, "flaml_budget_per_fit": budget,
                     "baseline": {"val": base_val, "test": base_test, "tried": 1},
                     "flaml": {"val": f_val, "test": f_test, "tried": 1},
                     "ratchet": {"val": r_val, "test": r_test, "tried": len(rows_)}})
        print(f"  seed {seed}: baseline {base_val:.4f}/{base_test:.4f}, flaml {f_val:.4f}/{f_test:.4f}, "
              f"ratchet {r_val:.4f}/{r_test:.4f}", flush=True)
    return rows, overhead


def summary(values: list[float]) -> str:
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}" if len(values) > 1 else f"{values[0]:.4f}"


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    m = results["machine"]
    lines = ["# arctl benchmarks", "",
             f"Measured {results['date']} on {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['platform']}, Docker "
             f"{m['docker']}, image `{m['image']}`. Reproduce with `python -m bench` (after `bash .ci/setup`); "
             "every figure below is a ratio or a comparison measured side by side in the same run.", "",
             "## 1. The cost of isolation", "",
             "(a) the original way: one Python process fits the 5 folds one after another and scores itself (timed by "
             "that process from its first line, imports included; it runs in one container of the same image, whose "
             "start is not counted). (b) arctl: 5 fresh hardened containers, one per fold, at most "
             f"{m['cpus']} at a time, host-side scoring; wall time of the whole evaluation, containers started cold "
             "(as `arctl eval` does). (c) the same, as inside `arctl run`: the containers were started and warmed "
             "up during the agent's turn (each still runs one job only and is then removed). Medians over "
             "interleaved runs.", "",
             "| candidate | runs | (a) single process | (b) arctl, cold | (b)/(a) | (c) arctl, warmed | (c)/(a) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["isolation"]:
        lines.append(f"| {r['candidate']} | {r['runs']} | {r['single_process_s']:.2f} s | {r['sandbox_s']:.2f} s | "
                     f"**{r['ratio']:.2f}×** | {r['warm_s']:.2f} s | **{r['warm_ratio']:.2f}×** |")
    lines += ["", "Where the time of one sandboxed fold goes in (b) (median seconds per fold; the phases before "
              "\"waiting for the job\" overlap with other folds' fits):", "",
              "| phase | " + " | ".join(r["candidate"] for r in results["isolation"]) + " |",
              "|---|" + "---:|" * len(results["isolation"])]
    for phase in results["isolation"][0]["where"]:
        lines.append(f"| {phase} | " + " | ".join(f"{r['where'].get(phase, float('nan')):.2f}"
                                                  for r in results["isolation"]) + " |")
    o = results["overhead"]
    lines += ["", "## 2. The loop's own overhead", "",
              f"Over {o['iterations']} iterations of the catalog agent: the controller's own time (git, ledger, static "
              f"checks, acceptance, everything but the agent and the sandbox) is a median **{o['median_fraction']:.2%}** "
              f"of an iteration (max {o['max_fraction']:.2%}); the sandbox evaluation is {o['eval_fraction']:.2%}.", "",
              "## 3. Research quality on the heart task", "",
              "Each split seed re-splits the data (80/20, stratified) and re-plans the folds. The ratchet runs the catalog "
              f"agent for {results['iterations']} iterations; FLAML gets the same wall clock in one shot. Validation = mean "
              "5-fold ROC AUC; test = the sealed 20% (61 rows), revealed here for the benchmark only.", "",
              "| method | candidates tried | validation AUC | test AUC |", "|---|---:|---:|---:|"]
    for key, label in (("baseline", "logistic regression baseline"), ("flaml", "FLAML one-shot, same wall clock"),
                       ("ratchet", "arctl ratchet, catalog agent")):
        q = results["quality"]
        lines.append(f"| {label} | {q[0][key]['tried']} | {summary([r[key]['val'] for r in q])} | "
                     f"{summary([r[key]['test'] for r in q])} |")
    lines += ["", "Mean ± standard deviation over seeds " + ", ".join(str(r["seed"]) for r in results["quality"]) +
              ". Per seed:", "", "| seed | baseline val / test | FLAML val / test | ratchet val / test | ratchet wall clock |",
              "|---:|---|---|---|---:|"]
    for r in results["quality"]:
        lines.append(f"| {r['seed']} | {r['baseline']['val']:.4f} / {r['baseline']['test']:.4f} | {r['flaml']['val']:.4f} / "
                     f"{r['flaml']['test']:.4f} | {r['ratchet']['val']:.4f} / {r['ratchet']['test']:.4f} | "
                     f"{r['ratchet_seconds']:.0f} s |")
    lines += ["", "The best validation score of several tries is optimistic (selection bias), which is why the sealed "
              "test score and the number of candidates tried are shown beside it; 61 test rows cannot rank methods on "
              "their own, hence several seeds."]
    text = "\n".join(lines) + "\n"
    previous = out.read_text() if out.exists() else ""
    if QUALITY_START in previous and QUALITY_END in previous:  # python -m bench.quality's section stays
        text += "\n" + previous[previous.index(QUALITY_START):previous.index(QUALITY_END) + len(QUALITY_END)] + "\n"
    out.write_text(text)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds (a smoke run)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    home, engine, image = sandbox("arctl-bench-")
    task = prepare.prepare(tasks.HEART, HEART)
    repeats = {label: 1 for label in CANDIDATES} if args.quick else {**{label: 5 for label in CANDIDATES},
                                                                      "FLAML, 30 s per fit": 2}
    seeds, iters = ([42], 4) if args.quick else ([42, 7, 2026], 8)
    print("isolation cost", flush=True)
    iso = isolation(engine, image, task, repeats)
    print("research quality and loop overhead", flush=True)
    qual, rows = quality(engine, image, seeds, iters, home)
    fractions = [r["controller_seconds"] / r["seconds"] for r in rows]
    results = {
        "date": time.strftime("%Y-%m-%d"), "iterations": iters,
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
                    "platform": platform.platform(), "docker": engine.version().get("Version"),
                    "image": engine.images.get(image).id[:19]},
        "isolation": iso,
        "overhead": {"iterations": len(rows), "median_fraction": statistics.median(fractions), "max_fraction": max(fractions),
                     "eval_fraction": statistics.median(r["eval_seconds"] / r["seconds"] for r in rows)},
        "quality": qual,
    }
    write(results, args.out)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
