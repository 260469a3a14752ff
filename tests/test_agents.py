"""Agents: Claude through the real anthropic SDK against a local Messages API, external commands, the catalog."""

from __future__ import annotations

import anthropic
import pytest

from arctl import checks
from arctl.agents import AgentError, Context, Exhausted
from arctl.agents.catalog import CATALOG, CatalogAgent
from arctl.agents.claude import ClaudeAgent
from arctl.agents.command import CommandAgent
from arctl.ledger import Row, Status

from conftest import ARTIFACT
from fake_anthropic import FakeMessagesAPI, error, text_reply, tool_reply

BASELINE = (ARTIFACT / "train.py").read_text()
CANDIDATE = BASELINE.replace("LogisticRegression(max_iter=1000)", "LogisticRegression(C=0.5, max_iter=1000)")


def context(iteration=1):
    return Context(iteration=iteration, program="Improve the model.", task_card="Task: heart",
                   best_train_py=BASELINE, best_summary="iteration 0, roc_auc 0.8960",
                   history=[Row(iter=0, status=Status.BASELINE, hypothesis="baseline", val=0.896)])


@pytest.fixture
def fake_api():
    servers = []

    def start(*replies):
        servers.append(FakeMessagesAPI(replies))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def claude(api, retries=2):
    client = anthropic.Anthropic(api_key="sk-test-key", base_url=api.url, max_retries=retries, timeout=10)
    return ClaudeAgent(model="claude-sonnet-4-6", client=client)


def test_claude_tool_call_becomes_a_proposal_with_its_cost(fake_api):
    api = fake_api(tool_reply("smaller C", CANDIDATE, input_tokens=1000, output_tokens=500, cache_write=2000))
    proposal = claude(api).propose(context())
    assert proposal.hypothesis == "smaller C" and proposal.train_py == CANDIDATE
    assert (proposal.input_tokens, proposal.output_tokens, proposal.cache_write_tokens) == (1000, 500, 2000)
    # sonnet: $3 per M input (x1.25 for cache writes), $15 per M output
    assert proposal.cost_usd == pytest.approx((3 * (1000 + 2500) + 15 * 500) / 1e6)
    request = api.requests[0]
    assert request["tool_choice"] == {"type": "tool", "name": "propose_candidate"}
    assert request["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Task: heart" in request["system"][0]["text"]
    assert "LogisticRegression(max_iter=1000)" in request["messages"][0]["content"]


def test_claude_malformed_reply_is_an_agent_error_that_keeps_the_spend(fake_api):
    api = fake_api(text_reply())
    with pytest.raises(AgentError, match="malformed reply") as info:
        claude(api).propose(context())
    assert info.value.proposal.input_tokens == 900


def test_claude_rate_limit_then_success_is_retried(fake_api):
    api = fake_api(error(429, "rate_limit_error", "slow down"), tool_reply("retry worked", CANDIDATE))
    assert claude(api).propose(context()).hypothesis == "retry worked"
    assert len(api.requests) == 2


def test_claude_overloaded_beyond_retries_is_an_agent_error(fake_api):
    api = fake_api(error(529, "overloaded_error", "Overloaded"))
    with pytest.raises(AgentError, match="529.*Overloaded"):
        claude(api, retries=1).propose(context())
    assert len(api.requests) == 2  # the first try and one retry


def test_command_agent_takes_the_train_py_it_leaves(tmp_path):
    script = tmp_path / "agent.sh"
    script.write_text("set -e\ntest -f program.md && test -f task_card.md && test -f history.md\n"
                      "sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py\n"
                      "sed -i 's/^HYPOTHESIS = .*/HYPOTHESIS = \"smaller C\"/' train.py\n")
    proposal = CommandAgent(f"bash {script}", timeout=30, paths=(str(script),)).propose(context())
    assert proposal.hypothesis == "smaller C" and "C=0.5" in proposal.train_py
    assert proposal.notes == ""


def test_command_agent_that_hangs_is_killed_at_its_timeout(tmp_path):
    with pytest.raises(AgentError, match="did not finish within 2 s"):
        CommandAgent("sleep 600 & sleep 600", timeout=2).propose(context())


def test_command_agent_edits_to_other_files_are_ignored_and_reported(tmp_path):
    agent = CommandAgent("echo hacked >> program.md && echo x > extra.txt && "
                         "sed -i 's/max_iter=1000)/C=0.5, max_iter=1000)/' train.py", timeout=30)
    proposal = agent.propose(context())
    assert proposal.notes == "ignored changes to extra.txt, program.md"
    assert "hacked" not in proposal.train_py


def test_command_agent_failure_and_no_change_are_agent_errors():
    with pytest.raises(AgentError, match="exited with code 3"):
        CommandAgent("echo oops; exit 3", timeout=30).propose(context())
    with pytest.raises(AgentError, match="unchanged"):
        CommandAgent("true", timeout=30).propose(context())


def test_catalog_walks_its_entries_in_order_then_is_exhausted():
    agent = CatalogAgent()
    entries = sorted((CATALOG / "classification").glob("*.py"))
    assert len(entries) >= 10
    for i, entry in enumerate(entries, start=1):
        proposal = agent.propose(context(i))
        assert proposal.train_py == entry.read_text()
        assert proposal.hypothesis and checks.static_problems(proposal.train_py.encode()) == []
    with pytest.raises(Exhausted):
        agent.propose(context(len(entries) + 1))
