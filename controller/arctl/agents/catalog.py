"""The offline agent: walks an ordered catalog of hand-written hypotheses (no key, no network)."""

from __future__ import annotations

from pathlib import Path

from arctl import checks
from arctl.agents.base import Context, Exhausted, Proposal
from arctl.artifact import ROOT

CATALOG = ROOT / "catalog"


class CatalogAgent:
    """Binary and multiclass tasks share the classification catalog; regression has its own."""

    name = "catalog"

    def __init__(self, task_type: str = "binary", directory: Path | None = None):
        directory = directory or CATALOG / ("regression" if task_type == "regression" else "classification")
        self.entries = sorted(directory.glob("*.py"))

    def propose(self, context: Context) -> Proposal:
        index = context.iteration - 1  # iteration 0 is the baseline
        if index >= len(self.entries):
            raise Exhausted(f"the catalog's {len(self.entries)} hypotheses have all been tried")
        source = self.entries[index].read_text()
        return Proposal(hypothesis=checks.hypothesis(source.encode()) or self.entries[index].stem, train_py=source,
                        notes=f"catalog entry {self.entries[index].name}")
