"""The compositional agent: one change per candidate, composed on the best, never repeated, deterministic,
and every train.py it writes runs on text columns, missing values and each task type in the real sandbox."""

from __future__ import annotations

import json

import pytest
from schema_data import spec

from arctl import checks, evaluate, prepare
from arctl.agents import choose
from arctl.agents.base import Context, Exhausted
from arctl.agents.compose import ComposeAgent
from arctl.agents.recipes import MODELS, baseline, fingerprint, read, render
from arctl.agents.steps import Schema, switch_model
from arctl.artifact import ROOT as ARTIFACT
from arctl.ledger import Row, Status
from arctl.sandbox.policy import Limits
from arctl.settings import Agent as AgentSettings

CARD = """Task: mixed (binary)
Metric: roc_auc, higher is better, mean over 5 folds of the 800 training rows
Budget: 180 s wall clock for all folds together; per fold container 1 CPU, 2048 MiB memory, no network

| column | dtype | missing | distinct | min | max |
|---|---|---|---|---|---|
| x1 | float64 | 12 | 700 | -3 | 3 |
| level | int64 | 0 | 4 | 0 | 3 |
| x3 | float64 | 0 | 700 | -3 | 3 |
| colour | str | 30 | 5 |  |  |
"""
# The same columns with many rows: the agent explores boosted trees first there (a small card starts elsewhere).
LARGE_CARD = CARD.replace("of the 800 training rows", "of the 20000 training rows")
BASELINE_PY = (ARTIFACT / "train.py").read_text()


def world(recipe: dict) -> float:
    """A made-up validation AUC: boosting, missing indicators and target encoding help; ensembles a little."""
    if "combine" in recipe:
        return max(world(m) for m in recipe["members"]) + 0.004
    score = {"linear": .80, "lgbm": .83, "hgb": .828, "rf": .82, "et": .815, "xgb": .825, "svm": .81, "flaml": .826}
    return (score[recipe["model"]] + 0.005 * recipe["indicators"] + 0.003 * (recipe["text"] == "target")
            + 0.002 * bool(recipe["pairs"]))


def simulate(agent: ComposeAgent, iterations: int, crash: str = "", window: int = 12, card: str = LARGE_CARD) -> list[Row]:
    """A ratchet without a sandbox: `world` scores, a gain over 0.001 is kept; keys containing `crash` crash."""
    best_py, best_val = BASELINE_PY, world(baseline("binary"))
    rows = [Row(iter=0, status=Status.BASELINE, val=best_val)]
    for i in range(1, iterations):
        try:
            p = agent.propose(Context(i, "", card, best_py, f"iteration x, roc_auc {best_val:.4f}", rows[-window:]))
        except Exhausted:
            break
        key = json.loads(p.notes.split(" ", 1)[1])["key"]
        if crash and crash in key:
            rows.append(Row(iter=i, status=Status.CRASHED, notes=p.notes, hypothesis=p.hypothesis))
            continue
        val = world(read(p.train_py))
        status = Status.KEPT if val - best_val > 0.001 else Status.DISCARDED
        rows.append(Row(iter=i, status=status, val=val, delta=val - best_val, notes=p.notes, hypothesis=p.hypothesis))
        if status is Status.KEPT:
            best_py, best_val = p.train_py, val
    return rows


def attempt(row: Row) -> dict:
    return json.loads(row.notes.split(" ", 1)[1])


def test_same_seed_same_candidates_and_every_candidate_is_a_checked_train_py():
    a, b = simulate(ComposeAgent("binary", seed=3), 15), simulate(ComposeAgent("binary", seed=3), 15)
    assert [r.notes for r in a] == [r.notes for r in b] and len(a) == 15
    for row in a[1:]:
        assert row.hypothesis and row.notes.startswith("compose ")


def test_never_the_same_change_on_the_same_best_and_never_the_same_candidate():
    rows = simulate(ComposeAgent("binary"), 60)
    tried = [(attempt(r)["key"], attempt(r)["base"]) for r in rows[1:]]
    assert len(tried) == len(set(tried)) and len(tried) >= 30
    recipes = [json.dumps(attempt(r)["recipe"], sort_keys=True) for r in rows[1:]]
    assert len(recipes) == len(set(recipes))


def test_changes_compose_on_the_newest_best():
    rows = simulate(ComposeAgent("binary"), 12)
    kept = [attempt(r) for r in rows if r.status is Status.KEPT]
    assert len(kept) >= 3
    for earlier, later in zip(kept, kept[1:], strict=False):
        # each kept candidate was built on the one kept before it, and keeps what that one changed
        assert later["base"] == fingerprint(earlier["recipe"])
    final = kept[-1]["recipe"]
    lead = final["members"][0] if "combine" in final else final
    assert lead["model"] == "lgbm" and lead["indicators"] and lead["text"] == "target"


def test_a_crashed_change_is_never_retried_and_a_resumed_agent_remembers_from_the_ledger_notes():
    rows = simulate(ComposeAgent("binary"), 30, crash="model=hgb")
    assert [attempt(r)["key"] for r in rows[1:]].count("model=hgb") == 1
    # A fresh agent (a resumed run) sees only the ledger rows: it must not repeat what they hold.
    fresh = ComposeAgent("binary")
    best = [r for r in rows if r.status is Status.KEPT][-1]
    context = Context(30, "", LARGE_CARD, render(attempt(best)["recipe"], "binary", "h", "w"), "best", rows)
    proposal = fresh.propose(context)
    done = {(attempt(r)["key"], attempt(r)["base"]) for r in rows[1:]}
    assert (attempt_of(proposal)["key"], attempt_of(proposal)["base"]) not in done


def attempt_of(proposal) -> dict:
    return json.loads(proposal.notes.split(" ", 1)[1])


def test_the_recipe_round_trips_and_the_hypothesis_says_what_changed():
    p = ComposeAgent("binary").propose(Context(1, "", LARGE_CARD, BASELINE_PY, "iteration 0, roc_auc 0.8", []))
    assert read(p.train_py) == attempt_of(p)["recipe"]
    assert checks.static_problems(p.train_py.encode()) == []
    assert checks.hypothesis(p.train_py.encode()) == p.hypothesis and "switch to lgbm" in p.hypothesis


def test_card_schema_is_read():
    schema = Schema.from_card(CARD, "binary")
    assert (schema.rows, schema.numeric, schema.text, schema.missing, schema.deadline) == (800, 3, 1, True, 180.0)
    assert schema.coded == ("level",)


def first_moves(task_type: str, card: str, seed: int, n: int = 5) -> list[str]:
    """The agent's first n changes when none of them gains: the order of its priors on this card."""
    agent, rows = ComposeAgent(task_type, seed=seed), [Row(iter=0, status=Status.BASELINE, val=0.8)]
    for i in range(1, n + 1):
        p = agent.propose(Context(i, "", card, BASELINE_PY, "iteration 0, 0.8", rows))
        rows.append(Row(iter=i, status=Status.DISCARDED, val=0.8, delta=0.0, notes=p.notes, hypothesis=p.hypothesis))
    return [attempt(r)["key"] for r in rows[1:]]


BOOSTED = {"model=lgbm", "model=hgb", "model=xgb", "model=flaml"}


@pytest.mark.parametrize("seed", range(5))
def test_small_data_starts_with_linear_moves_and_forests_large_data_with_boosting_and_flaml(seed):
    small, large = first_moves("binary", CARD, seed), first_moves("binary", LARGE_CARD, seed)
    # 800 rows: regularisation, encodings and splines of the linear baseline, and forests; no boosting yet.
    assert not BOOSTED & set(small), small
    assert any(k.startswith(("linear.", "coded=", "expand=", "text=", "indicators=", "pairs=")) for k in small), small
    assert {"model=et", "model=rf"} & set(small), small
    # 20,000 rows: the strongest boosted family first and FLAML (the card's budget allows it) among the first three.
    assert large[0] in BOOSTED and "model=flaml" in large[:3], large


@pytest.mark.parametrize("seed", range(5))
def test_small_regression_tries_ridge_alpha_splines_and_hgb_early(seed):
    card = CARD.replace("(binary)", "(regression)").replace("roc_auc, higher is better", "rmse, lower is better")
    small = first_moves("regression", card, seed, n=6)
    assert "model=hgb" in small and "expand=splines" in small, small
    assert any(k.startswith("linear.alpha=") for k in small), small
    assert not {"model=lgbm", "model=xgb", "model=flaml"} & set(small), small


def test_auto_without_a_key_is_compose_and_catalog_stays_selectable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    agent, why = choose(AgentSettings())
    assert agent.name == "compose" and "compositional" in why
    assert choose(AgentSettings(kind="catalog"))[0].name == "catalog"


# ---- in the real sandbox ---------------------------------------------------------------------------------
VARIANTS = [{"indicators": True, "coded": ["level"]}, {"text": "target", "expand": "splines"},
            {"text": "ordinal", "pairs": 8, "coded": ["level", "x1"]},
            {"indicators": True, "expand": "bins", "text": "target", "scale": "quantile"},
            {"impute": "none", "text": "ordinal", "scale": "none"}]


def every_kind_of_candidate(task_type: str) -> list[dict]:
    """Each model family with a rotating mix of the preprocessing steps, and both kinds of ensemble."""
    schema = Schema(task_type=task_type, deadline=60)
    out = []
    for i, name in enumerate(MODELS):
        recipe = switch_model(baseline(task_type), name, schema)
        variant = VARIANTS[i % len(VARIANTS)]
        if variant.get("impute") == "none" and not MODELS[name].tree:
            variant = VARIANTS[0]
        out.append({**recipe, **variant})
    out.append({"combine": "vote", "members": [out[0], out[3]]})
    out.append({"combine": "stack", "members": [out[1], out[6]]})
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, arctl_home):
    directory = tmp_path_factory.mktemp("mixed")
    return {kind: prepare.prepare(spec(kind, directory)) for kind in ("binary", "multiclass", "regression")}


CASES = [(kind, i) for kind in ("binary", "multiclass", "regression") for i in range(len(MODELS) + 2)]


@pytest.mark.docker
@pytest.mark.parametrize(("task_type", "index"), CASES, ids=[f"{k}-{i}" for k, i in CASES])
def test_every_kind_of_composed_candidate_runs_on_text_and_missing_values(task_type, index, mixed, engine, image):
    recipe = every_kind_of_candidate(task_type)[index]
    source = render(recipe, task_type, "schema check", "schema check")
    result = evaluate.evaluate(source.encode(), mixed[task_type], image, Limits(deadline=120), engine=engine)
    assert result.verdict == "ok", f"{recipe}\n{result.reason}\n{result.stderr_tail}"


@pytest.mark.docker
def test_a_short_compose_run_on_text_and_missing_values_never_crashes(mixed, engine, image, tmp_path):
    from arctl.ratchet import Ratchet
    from arctl.settings import Budget, Settings
    from arctl.stopping import StopRules
    from arctl.workspace import init as init_workspace

    ws = init_workspace(tmp_path / "ws")
    Ratchet(ws, "c", ComposeAgent("binary"), Settings(budget=Budget(deadline=120)), StopRules(max_iters=5),
            mixed["binary"], image, echo=lambda row: None, say=lambda line: None, engine=engine).run()
    rows = [json.loads(line) for line in (ws / "runs" / "c" / "ledger.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "event" not in r]
    assert len(rows) == 5 and all(r["status"] in ("BASELINE", "KEPT", "DISCARDED") for r in rows), \
        [(r["status"], r["reason"], r["stderr_tail"][-300:]) for r in rows]
    assert all(r["agent"] == "compose" for r in rows[1:])
