"""The compositional offline agent: each candidate is the best recipe so far plus one change (no key, no network).

It reads the best recipe back from the best train.py (its RECIPE constant), learns from the run's history
which changes were kept, discarded or crashed, and picks the next change from arctl.agents.steps:
- never the same change on the same best again, never a change that crashed, timed out or was invalid;
- a change that was discarded on an older best may be tried on a newer one (sooner if it had gained a little);
- kinds of change that produced keeps get more of the budget, and a kept hyperparameter move is followed further;
- ties are broken by a generator seeded with the seed and the iteration, so a run is reproducible;
- with several candidates in flight (--workers), never a recipe another candidate is already testing.
"""

from __future__ import annotations

import collections
import json
import random
import threading

from arctl.agents import recipes, steps
from arctl.agents.base import Context, Exhausted, Proposal

NOTE = "compose "  # prefix of the ledger note that records a candidate's change and recipe
FAILED = {"CRASHED", "TIMEOUT", "OOM", "INVALID", "REJECTED"}


class ComposeAgent:
    name = "compose"

    def __init__(self, task_type: str = "binary", seed: int = 0):
        self.task_type, self.seed = task_type, seed
        self.proposed: dict[int, dict] = {}  # iteration -> what was proposed (survives a short history window)
        self.memory: dict[int, dict] = {}  # iteration -> attempt with its outcome
        self.scored: set[int] = set()  # candidate numbers whose outcome is known
        self.lock = threading.Lock()  # agents are asked concurrently with --workers

    # ---- what the run has learned ---------------------------------------------------------------
    def learn(self, history: list) -> None:
        """Outcomes of past attempts: this agent's own (from memory or the ledger note) and the baseline."""
        for row in history:
            number = row.iter if getattr(row, "candidate", None) is None else row.candidate
            self.scored.add(number)
            attempt = self.proposed.get(number)
            if attempt is None and row.notes.startswith(NOTE):
                try:
                    attempt = json.loads(row.notes[len(NOTE):])
                except ValueError:
                    attempt = None
            if attempt is None and str(row.status) == "BASELINE":
                attempt = {"key": "baseline", "kind": "baseline", "base": "", "recipe": recipes.baseline(self.task_type)}
            if attempt is None:
                continue
            self.memory[row.iter] = {**attempt, "status": str(row.status), "val": row.val, "delta": row.delta,
                                     "iter": row.iter}

    def _others(self, schema: steps.Schema) -> dict[str, dict]:
        """The best scored single-model recipe of each family, best first (ensemble members)."""
        sign = 1 if schema.greater_is_better else -1
        best: dict[str, tuple[float, dict]] = {}
        for a in self.memory.values():
            if a["val"] is None or "combine" in a["recipe"] or a["status"] in FAILED:
                continue
            family = a["recipe"]["model"]
            if family not in best or sign * a["val"] > sign * best[family][0]:
                best[family] = (a["val"], a["recipe"])
        return {f: r for f, (_, r) in sorted(best.items(), key=lambda kv: -sign * kv[1][0])}

    def _score(self, step: steps.Step, base: str, seen: set[str]) -> tuple[float, str] | None:
        """The step's priority given the history, and a note on why; None when it must not be tried."""
        if recipes.fingerprint(step.recipe) in seen:
            return None
        earlier = [a for a in self.memory.values() if a["key"] == step.key]
        if any(a["status"] in FAILED for a in earlier) or any(a["base"] == base for a in earlier):
            return None
        attempts = sorted(self.memory.values(), key=lambda a: a["iter"])
        kept = collections.Counter(a["kind"] for a in attempts if a["status"] == "KEPT")
        last_keep = max((a["iter"] for a in attempts if a["status"] == "KEPT"), default=0)
        misses = collections.Counter(a["kind"] for a in attempts if a["iter"] > last_keep and a["status"] == "DISCARDED")
        score = step.prior + 0.5 * min(kept[step.kind], 3) - 0.15 * misses[step.kind]
        note = ""
        if step.kind == "model":  # exploring families pays less the more of them were tried
            score -= 0.35 * sum(a["kind"] == "model" for a in attempts)
        if step.move and any(a["status"] == "KEPT" and tuple(a.get("move", ())) == step.move for a in attempts):
            score += 1.5
            note = "the same move was kept before, so it is followed further"
        if earlier:
            gained = max((a["delta"] or 0.0) for a in earlier)
            if gained > 0:
                score += 0.4
                note = f"retried on a newer best: it gained {gained:+.4f} before, short of the margin"
            else:
                score -= 2.0
                note = "retried on a newer best after everything likelier was tried"
        return score, note

    # ---- the proposal ---------------------------------------------------------------------------
    def _in_flight(self, context: Context) -> set[str]:
        """Recipes being tested right now: this agent's own unscored proposals and those the run says are in flight."""
        recipes_ = [a["recipe"] for n, a in self.proposed.items() if n not in self.scored]
        for c in context.in_flight:
            notes = c.get("notes") or ""
            if notes.startswith(NOTE):
                try:
                    recipes_.append(json.loads(notes[len(NOTE):])["recipe"])
                except (ValueError, KeyError, TypeError):
                    pass
        return {recipes.fingerprint(r) for r in recipes_}

    def propose(self, context: Context) -> Proposal:
        with self.lock:
            return self._propose(context)

    def _propose(self, context: Context) -> Proposal:
        self.learn(context.history)
        schema = steps.Schema.from_card(context.task_card, self.task_type)
        best = recipes.read(context.best_train_py)
        start = ""
        if best is None:
            best = recipes.baseline(self.task_type)
            start = " The best train.py carries no RECIPE, so this starts from the baseline's recipe."
        base = recipes.fingerprint(best)
        seen = {recipes.fingerprint(a["recipe"]) for a in self.memory.values()} | {base} | self._in_flight(context)
        rng = random.Random(f"{self.seed}:{context.iteration}")
        ranked = []
        for step in steps.library(best, schema, self._others(schema)):
            scored = self._score(step, base, seen)
            if scored is not None:
                ranked.append((scored[0] + 0.25 * rng.random(), step, scored[1]))
        if not ranked:
            raise Exhausted("the compositional agent has no untried change left on the best recipe")
        _, step, note = max(ranked, key=lambda t: t[0])
        hypothesis = f"{recipes.describe(best)}: {step.change} ({step.why})"
        why = (f"Best so far: {recipes.describe(best)} ({context.best_summary}).\nChange: {step.change}.\n"
               f"Why: {step.why}.{' ' + note[0].upper() + note[1:] + '.' if note else ''}{start}")
        source = recipes.render(step.recipe, self.task_type, hypothesis, why)
        attempt = {"key": step.key, "kind": step.kind, "base": base, "move": list(step.move), "recipe": step.recipe}
        self.proposed[context.iteration] = attempt
        note = NOTE + json.dumps(attempt, sort_keys=True, separators=(",", ":"))
        return Proposal(hypothesis=hypothesis, train_py=source, notes=note)
