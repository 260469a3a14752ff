"""The pure logic, without an engine: acceptance, stop rules, the ledger's crash recovery, settings, display, git."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

import git
import pytest
from rich.console import Console
from rich.text import Text

from arctl import acceptance, display, repository, settings, stopping
from arctl.errors import ArctlError
from arctl.ledger import Ledger, Row, Status
from arctl.sandbox.policy import Limits, MiB

BEST = {"fold0": 0.80, "fold1": 0.82, "fold2": 0.78, "fold3": 0.81, "fold4": 0.79}


def shifted(by: dict[str, float]) -> dict[str, float]:
    return {k: v + by.get(k, 0.0) for k, v in BEST.items()}


# ---- acceptance ------------------------------------------------------------------------------

def test_a_consistent_gain_clears_its_own_noise():
    d = acceptance.decide(shifted(dict.fromkeys(BEST, 0.01)), BEST, greater_is_better=True)
    assert d.keep and d.delta == pytest.approx(0.01) and d.spread == pytest.approx(0.0)
    assert d.margin == pytest.approx(1e-4)  # no spread: min_delta is the margin


def test_a_gain_from_one_lucky_fold_is_noise():
    d = acceptance.decide(shifted({"fold0": 0.05}), BEST, greater_is_better=True)
    assert d.delta == pytest.approx(0.01) and d.spread == pytest.approx(0.01)
    assert not d.keep and d.margin == pytest.approx(d.spread)  # the mean equals one standard error
    assert acceptance.decide(shifted({"fold0": 0.05}), BEST, True, rule="strict").keep


def test_lower_is_better_metrics_count_a_drop_as_a_gain():
    d = acceptance.decide(shifted(dict.fromkeys(BEST, -0.02)), BEST, greater_is_better=False)
    assert d.keep and d.delta == pytest.approx(0.02)


def test_candidates_must_be_scored_on_the_same_folds():
    with pytest.raises(ValueError, match="same folds"):
        acceptance.decide({"fold0": 0.9}, BEST, True)


# ---- stop rules ------------------------------------------------------------------------------

def rows(*statuses, val=0.8, cost=0.0) -> list[Row]:
    return [Row(iter=i, status=Status(s), val=val if Status(s).scored else None, cost_usd=cost, reason="boom")
            for i, s in enumerate(statuses)]


@pytest.mark.parametrize("rules, statuses, elapsed, expected", [
    (stopping.StopRules(), ["BASELINE", "DISCARDED"], 0, ""),
    (stopping.StopRules(max_iters=2), ["BASELINE", "DISCARDED"], 0, "reached --max-iters 2"),
    (stopping.StopRules(max_time=10), ["BASELINE"], 11, "reached --max-time 10 s"),
    (stopping.StopRules(patience=2), ["BASELINE", "KEPT", "DISCARDED"], 0, ""),
    (stopping.StopRules(patience=2), ["BASELINE", "KEPT", "DISCARDED", "CRASHED"], 0, "no candidate kept in the last 2"),
    (stopping.StopRules(target=0.8), ["BASELINE"], 0, "reached --target 0.8"),
    (stopping.StopRules(target=0.9), ["BASELINE"], 0, ""),
    (stopping.StopRules(), ["BASELINE", "AGENT_ERROR", "AGENT_ERROR", "AGENT_ERROR"], 0, "the agent failed 3 times"),
    (stopping.StopRules(), ["BASELINE", "AGENT_ERROR", "DISCARDED", "AGENT_ERROR", "AGENT_ERROR"], 0, ""),
    (stopping.StopRules(), ["BASELINE", "TRIPWIRE"], 0, "leakage tripwire: iteration 1"),
])
def test_stop_rules(rules, statuses, elapsed, expected):
    reason = stopping.reason(rules, rows(*statuses), elapsed, True, "roc_auc", "r")
    assert reason.startswith(expected) if expected else reason == ""


def test_max_cost_counts_the_whole_run_and_target_respects_direction():
    assert "spent $0.0300" in stopping.reason(stopping.StopRules(max_cost=0.03), rows("BASELINE", "KEPT", "DISCARDED",
                                                                                       cost=0.01), 0, True, "m", "r")
    assert stopping.reason(stopping.StopRules(target=0.85), rows("BASELINE", val=0.8), 0, False, "rmse", "r") \
        .startswith("reached --target")


# ---- the ledger ------------------------------------------------------------------------------

def test_a_torn_last_line_is_dropped_and_the_file_repaired(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(Row(iter=0, status=Status.BASELINE, val=0.9, commit="a" * 40))
    ledger.append(Row(iter=1, status=Status.KEPT, val=0.91, commit="b" * 40, hypothesis="tab\there"))
    good = ledger.path.read_text()
    ledger.path.write_text(good + '{"iter": 2, "status": "DISC')  # killed mid-write
    again = Ledger(tmp_path)
    assert [r.iter for r in again.rows] == [0, 1] and again.next_iter == 2
    assert ledger.path.read_text() == good
    assert again.best().commit == "b" * 40
    tsv = again.tsv.read_text().splitlines()
    assert len(tsv) == 3 and tsv[2].split("\t")[-1] == "tab here"


def test_a_complete_line_without_its_newline_is_also_redone(tmp_path):
    Ledger(tmp_path).append(Row(iter=0, status=Status.BASELINE, val=0.9))
    path = tmp_path / "ledger.jsonl"
    path.write_text(path.read_text() + json.dumps(Row(iter=1, status=Status.KEPT).to_json()))
    assert [r.iter for r in Ledger(tmp_path).rows] == [0]


def test_rows_round_trip_and_older_rows_still_read(tmp_path):
    row = Row(iter=3, status=Status.DISCARDED, val=0.5, folds={"fold0": 0.5}, tokens={"input": 1})
    assert Row.from_json(json.loads(json.dumps(row.to_json()))) == row
    old = Row.from_json({"iter": 0, "status": "BASELINE", "val": 0.9, "a_key_from_another_version": 1})
    assert old.status is Status.BASELINE and old.status.keeps and old.jobs == {}


# ---- settings --------------------------------------------------------------------------------

def test_the_template_holds_every_default(tmp_path):
    (tmp_path / "arctl.toml").write_text(settings.template())
    assert settings.load(tmp_path) == settings.Settings()
    assert settings.Settings().limits() == Limits()  # the budget's defaults are the sandbox's


@pytest.mark.parametrize("text, message", [
    ("[task]\nname = \"heart\"\n[[[\n", "not valid TOML: .* line 3"),
    ("[budget]\ndeadlin = 10\n", "unknown key.*budget.deadlin"),
    ("[budget]\ndeadline = \"ten\"\n", "budget.deadline must be a number"),
    ("[agent]\nkind = \"robot\"\n", "agent.kind must be one of"),
    ("[accept]\nrule = \"vibes\"\n", "accept.rule must be one of"),
    ("[bugdet]\n", "unknown table"),
    ("[budget]\ndeadline = -1\n", "must be positive"),
])
def test_bad_settings_say_what_and_where(tmp_path, text, message):
    (tmp_path / "arctl.toml").write_text(text)
    with pytest.raises(ArctlError, match=message):
        settings.load(tmp_path)


def test_a_budget_in_the_file_reaches_the_limits_and_options_override_it(tmp_path):
    (tmp_path / "arctl.toml").write_text("[budget]\ndeadline = 7\nmemory_mib = 300\n")
    cfg = settings.load(tmp_path)
    assert (cfg.limits().deadline, cfg.limits().memory) == (7.0, 300 * MiB)
    assert cfg.with_budget(deadline=None, cpus_per_job=None).limits() == cfg.limits()
    assert cfg.with_budget(deadline=3).limits().deadline == 3
    assert dataclasses.replace(cfg.limits(), pids=1).pids == 1


# ---- display: candidate text is data ---------------------------------------------------------

def test_escapes_controls_and_bidi_overrides_are_removed():
    hostile = "\x1b[2K\rverdict ok 0.998\x1b]0;title\x07 \u202eevil\x00\x9b[31m"
    assert display.clean(hostile) == "verdict ok 0.998 evil[31m"
    assert len(display.clean("x" * 10_000, 100)) == 100


def test_markup_in_candidate_text_is_printed_as_it_is():
    out = Console(record=True, width=200)
    row = Row(iter=4, status=Status.CRASHED, hypothesis="[/] [bold]x", reason="fold0: exited with code 1",
              stderr_tail="Traceback (most recent call last):\n  File \"x\"\nValueError: could not convert 'north'\n")
    out.print(Text(display.status_line(row, "val_auc", width=200)))
    text = out.export_text()
    assert "[/] [bold]x" in text
    assert "[fold0: exited with code 1: ValueError: could not convert 'north']" in text


def test_the_status_line_is_cut_to_the_terminal():
    row = Row(iter=1, status=Status.CRASHED, hypothesis="h" * 300, reason="fold0: exited with code 1")
    assert len(display.status_line(row, "val_auc", width=80)) == 80


# ---- git without an identity -----------------------------------------------------------------

def test_commits_and_notes_work_with_an_empty_home(tmp_path, monkeypatch):
    for var in ("HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    bare = subprocess.run(["git", "commit-tree", "-m", "x", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"],
                          cwd=git.Repo.init(tmp_path / "probe").working_tree_dir, capture_output=True, text=True)
    assert bare.returncode != 0, "this test needs a git without an identity"  # the situation being tested
    repo = repository.init_repo(tmp_path / "ws")
    (tmp_path / "ws" / "train.py").write_text("x = 1\n")
    sha = repository.commit(repo, ["train.py"], "first")
    repository.add_note(repo, "r", sha, '{"iter": 0}')
    repository.keep_reachable(repo, "r", 0, sha)
    assert repository.read_note(repo, "r", sha) == '{"iter": 0}'
    assert repo.commit(sha).author.email == "arctl@localhost"
    repo.config_writer().set_value("user", "name", "Ada").set_value("user", "email", "ada@example.org").release()
    reopened = repository.open_repo(tmp_path / "ws")
    (tmp_path / "ws" / "train.py").write_text("x = 2\n")
    assert reopened.commit(repository.commit(reopened, ["train.py"], "second")).author.email == "ada@example.org"
    assert os.environ["HOME"] == str(tmp_path / "home")


def test_a_task_table_takes_the_spec_defaults_and_refuses_unknown_keys():
    from arctl import tasks

    spec = tasks.from_settings({"data": "x.csv", "target": "y", "task_type": "regression"})
    assert (spec.metric, spec.folds, spec.seed, spec.test_fraction) == ("rmse", 5, 42, 0.2)
    with pytest.raises(ArctlError, match="unknown key.*task.fold;"):
        tasks.from_settings({"data": "x.csv", "target": "y", "fold": 3})
    with pytest.raises(ArctlError, match="task.folds must be a number"):
        tasks.from_settings({"data": "x.csv", "target": "y", "folds": "3"})
