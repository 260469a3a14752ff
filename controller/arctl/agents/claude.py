"""The Claude agent: Messages API with a forced tool call returning {hypothesis, train_py}."""

from __future__ import annotations

import anthropic

from arctl.agents.base import AgentError, Context, Proposal, render_request

TOOL = {
    "name": "propose_candidate",
    "description": "Submit the next candidate: one hypothesis and the complete new train.py that tests it.",
    "input_schema": {
        "type": "object",
        "properties": {
            "hypothesis": {"type": "string", "description": "One line: what this change tries and why."},
            "train_py": {"type": "string", "description": "The complete new train.py."},
        },
        "required": ["hypothesis", "train_py"],
    },
}

# US dollars per million tokens: input, output. Cache writes cost 1.25x input, reads 0.1x.
PRICES = {"claude-opus-4-1": (15.0, 75.0), "claude-opus-4-0": (15.0, 75.0), "claude-opus-4": (5.0, 25.0),
          "claude-sonnet": (3.0, 15.0), "claude-haiku-4": (1.0, 5.0), "claude-3-5-haiku": (0.8, 4.0)}


def price(model: str) -> tuple[float, float]:
    for prefix in sorted(PRICES, key=len, reverse=True):
        if model.startswith(prefix):
            return PRICES[prefix]
    return PRICES["claude-sonnet"]


class ClaudeAgent:
    name = "claude"

    def __init__(self, model: str, timeout: float = 600, max_retries: int = 4, max_tokens: int = 8192,
                 client: anthropic.Anthropic | None = None):
        self.model = model
        self.max_tokens = max_tokens
        # The SDK retries 429, 529 and 5xx itself, with exponential backoff that honours retry-after.
        self.client = client or anthropic.Anthropic(max_retries=max_retries, timeout=timeout)

    def propose(self, context: Context) -> Proposal:
        system = [{"type": "text", "text": f"{context.program}\n\n# Task card\n\n{context.task_card}",
                   "cache_control": {"type": "ephemeral"}}]  # the stable part, cached across iterations
        try:
            reply = self.client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=system, tools=[TOOL],
                tool_choice={"type": "tool", "name": TOOL["name"]},
                messages=[{"role": "user", "content": render_request(context)}],
            )
        except anthropic.APIStatusError as e:
            raise AgentError(f"the Messages API answered {e.status_code}: {_message(e)}") from e
        except anthropic.APIConnectionError as e:
            raise AgentError(f"could not reach the Messages API: {e}") from e
        usage = reply.usage
        proposal = Proposal(hypothesis="", train_py="",
                            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                            cache_read_tokens=usage.cache_read_input_tokens or 0,
                            cache_write_tokens=usage.cache_creation_input_tokens or 0)
        p_in, p_out = price(self.model)
        proposal.cost_usd = (p_in * (proposal.input_tokens + 1.25 * proposal.cache_write_tokens
                                     + 0.1 * proposal.cache_read_tokens) + p_out * proposal.output_tokens) / 1e6
        call = next((b for b in reply.content if b.type == "tool_use" and b.name == TOOL["name"]), None)
        data = call.input if call is not None else None
        if not isinstance(data, dict) or not isinstance(data.get("train_py"), str) or not data["train_py"].strip():
            error = AgentError(f"malformed reply: no {TOOL['name']} call with a train_py (stop_reason {reply.stop_reason})")
            error.proposal = proposal  # the tokens were spent all the same
            raise error
        proposal.train_py = data["train_py"]
        proposal.hypothesis = str(data.get("hypothesis") or "").strip().splitlines()[0] if data.get("hypothesis") else ""
        return proposal


def _message(error: anthropic.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return (body.get("error") or {}).get("message") or str(error)
