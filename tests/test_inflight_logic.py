"""--workers without a sandbox: the setting, what agents are told of the candidates in flight, and the
compositional agent never proposing a recipe that is already in flight (asked concurrently, as the scheduler does)."""

from __future__ import annotations

import concurrent.futures
import json

import pytest
from test_compose import BASELINE_PY, CARD

from arctl import feedback, settings
from arctl.agents.base import Context, render_request
from arctl.agents.compose import ComposeAgent
from arctl.errors import ArctlError
from arctl.ledger import Row, Status


def context(number: int, in_flight=()) -> Context:
    rows = [Row(iter=0, status=Status.BASELINE, val=0.8, candidate=0)]
    return Context(number, "", CARD, BASELINE_PY, "iteration 0, roc_auc 0.8000", rows, in_flight=list(in_flight))


def test_workers_setting_defaults_to_one_and_is_checked(tmp_path):
    assert settings.load(tmp_path).run.workers == 1
    (tmp_path / "arctl.toml").write_text("[run]\nworkers = 3\n")
    assert settings.load(tmp_path).run.workers == 3
    assert settings.load(tmp_path).with_run(workers=None).run.workers == 3  # no --workers keeps the file's
    assert settings.load(tmp_path).with_run(workers=2).run.workers == 2
    for bad in ("workers = 0", 'workers = "4"', "threads = 2"):
        (tmp_path / "arctl.toml").write_text(f"[run]\n{bad}\n")
        with pytest.raises(ArctlError, match="run"):
            settings.load(tmp_path)


def test_with_nothing_in_flight_the_request_is_unchanged():
    c = context(1)
    assert feedback.render_in_flight(c.in_flight) == "" and "In flight" not in render_request(c)
    assert "In flight" not in feedback.history_md(c)


def test_model_agents_are_told_the_hypotheses_in_flight():
    c = context(3, [{"candidate": 1, "hypothesis": "try LightGBM", "notes": ""},
                    {"candidate": 2, "hypothesis": "", "notes": ""}])
    for text in (render_request(c), feedback.history_md(c)):
        assert "In flight now" in text and "- try LightGBM" in text and "still thinking" in text


def test_compose_asked_concurrently_never_proposes_the_same_recipe_twice():
    agent = ComposeAgent("binary")
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as threads:
        proposals = list(threads.map(lambda n: agent.propose(context(n)), range(1, 9)))
    recipes = [json.loads(p.notes.split(" ", 1)[1])["recipe"] for p in proposals]
    assert len({json.dumps(r, sort_keys=True) for r in recipes}) == 8


def test_compose_excludes_what_the_run_says_is_in_flight():
    recipe = lambda p: json.loads(p.notes.split(" ", 1)[1])["recipe"]  # noqa: E731
    first = ComposeAgent("binary").propose(context(1))
    assert recipe(ComposeAgent("binary").propose(context(1))) == recipe(first)  # deterministic: the same pick again
    other = ComposeAgent("binary")  # e.g. after a restart: it did not propose the candidate in flight itself
    again = other.propose(context(1, [{"candidate": 1, "hypothesis": first.hypothesis, "notes": first.notes}]))
    assert recipe(again) != recipe(first)
