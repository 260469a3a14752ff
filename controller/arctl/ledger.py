"""A run's record: typed rows in a JSONL ledger (everything) and results.tsv (a line per iteration, for people).

Each row is fsynced before the loop moves on, so a crash never loses a recorded iteration.
results.tsv is derived from the ledger and rewritten from it on every open. Sealed test results
are never written here. The summaries that `arctl status` and `arctl report` show are made here too.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path

from arctl import durable, untrusted
from arctl.errors import ArctlError

TSV_COLUMNS = ["iter", "commit", "val", "delta", "margin", "seconds", "status", "hypothesis"]


class Status(StrEnum):
    """What became of an iteration."""

    BASELINE = "BASELINE"  # iteration 0: the starting train.py, scored
    KEPT = "KEPT"  # beat the best by more than the margin: the branch moved to it
    DISCARDED = "DISCARDED"  # scored, not better enough: reset
    TRIPWIRE = "TRIPWIRE"  # scored suspiciously well (a leak); not kept, and the run stops
    AGENT_ERROR = "AGENT_ERROR"  # the agent gave no usable proposal
    REJECTED = "REJECTED"  # the candidate failed the static checks
    CRASHED = "CRASHED"
    TIMEOUT = "TIMEOUT"
    OOM = "OOM"
    INVALID = "INVALID"

    @property
    def keeps(self) -> bool:
        """The branch tip moved to this iteration's commit."""
        return self in (Status.BASELINE, Status.KEPT)

    @property
    def scored(self) -> bool:
        return self in (Status.BASELINE, Status.KEPT, Status.DISCARDED, Status.TRIPWIRE)

    @classmethod
    def of_verdict(cls, verdict: str) -> Status:
        return cls(str(verdict).upper())


@dataclasses.dataclass
class Row:
    """One iteration of a run, as recorded."""

    iter: int
    status: Status
    time: float = 0.0
    commit: str | None = None
    verdict: str = ""
    hypothesis: str = ""
    reason: str = ""
    val: float | None = None  # mean validation metric over the folds
    folds: dict[str, float] = dataclasses.field(default_factory=dict)
    delta: float | None = None  # mean paired improvement over the best, positive = better
    spread: float | None = None  # its standard error
    margin: float | None = None  # what delta had to exceed
    rule: str = ""
    stderr_tail: str = ""
    smoke: dict[str, str] = dataclasses.field(default_factory=dict)  # what the agent may see of a failure
    jobs: dict[str, dict] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    agent_seconds: float = 0.0
    eval_seconds: float = 0.0
    controller_seconds: float = 0.0
    agent: str = ""
    jail: str = ""  # how an external agent command was confined ("bwrap", or why not)
    notes: str = ""
    tokens: dict[str, int] = dataclasses.field(default_factory=dict)
    cost_usd: float = 0.0
    image_id: str = ""
    harness_sha256: str = ""
    task_key: str = ""
    candidate_sha256: str = ""
    data_sha256: str = ""
    libraries: dict[str, str] = dataclasses.field(default_factory=dict)
    candidate: int | None = None  # its number when launched (refs/arctl/RUN/inflight/N); = iter with one worker
    tried: int = 0  # candidates recorded so far, this one included: how many tries a keep was selected from

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Row:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in d.items() if k in known}, "status": Status(d["status"])})


class Ledger:
    def __init__(self, run_dir: Path):
        self.dir = run_dir
        self.path = run_dir / "ledger.jsonl"
        self.tsv = run_dir / "results.tsv"
        run_dir.mkdir(parents=True, exist_ok=True)
        everything = self._read()
        self.rows = [Row.from_json(r) for r in everything if "event" not in r]  # iterations
        self.events = [r for r in everything if "event" in r]  # e.g. a reveal of sealed test scores
        durable.write_atomic(self.tsv, "\t".join(TSV_COLUMNS) + "\n" + "".join(map(_tsv_line, self.rows)))

    def _read(self) -> list[dict]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines(keepends=True)
        rows = []
        for line in lines:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a torn last line from a crash mid-write: drop it, the iteration is redone
            if not line.endswith("\n"):
                rows.pop()  # complete JSON but no newline: the write did not finish either
                break
        if len(rows) != len(lines):
            durable.write_atomic(self.path, "".join(json.dumps(r) + "\n" for r in rows))
        return rows

    def append_event(self, event: dict) -> None:
        durable.append_line(self.path, json.dumps(event))
        self.events.append(event)

    def append(self, row: Row) -> None:
        untrusted.cap_row(row)  # nothing a candidate prints can bloat or corrupt the record
        row.candidate = row.iter if row.candidate is None else row.candidate
        row.tried = len(self.rows) + 1
        durable.append_line(self.path, json.dumps(row.to_json()))
        self.rows.append(row)
        durable.append_line(self.tsv, _tsv_line(row))

    @property
    def next_iter(self) -> int:
        return self.rows[-1].iter + 1 if self.rows else 0

    def best(self) -> Row | None:
        kept = [r for r in self.rows if r.status.keeps]
        return kept[-1] if kept else None


def _tsv_line(row: Row) -> str:
    def num(v):
        return "" if v is None else f"{v:.6f}"

    hypothesis = " ".join(row.hypothesis.split())  # no tab or newline may break the columns
    return "\t".join([str(row.iter), (row.commit or "")[:12], num(row.val), num(row.delta), num(row.margin),
                      f"{row.seconds:.1f}", str(row.status), hypothesis]) + "\n"


def read_tsv(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]


# ---- runs of a workspace -----------------------------------------------------------------------

def run_dir(workspace: Path, name: str) -> Path:
    return workspace / "runs" / name


def open_run(workspace: Path, name: str) -> tuple[Ledger, dict]:
    """The ledger and run.json of an existing run, or an error listing the runs there are."""
    d = run_dir(workspace, name)
    if not (d / "ledger.jsonl").exists():
        raise ArctlError(f"no run named {name!r} in {workspace} (runs/{name}/ledger.jsonl is missing); "
                         + _runs_sentence(workspace))
    return Ledger(d), read_meta(d)


def read_meta(d: Path) -> dict:
    path = d / "run.json"
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return {}


def runs(workspace: Path) -> list[str]:
    return sorted(p.name for p in (workspace / "runs").glob("*") if (p / "ledger.jsonl").exists())


def only_run(workspace: Path) -> str:
    found = runs(workspace)
    if len(found) != 1:
        raise ArctlError("name the run: " + _runs_sentence(workspace))
    return found[0]


def _runs_sentence(workspace: Path) -> str:
    found = runs(workspace)
    return f"the runs here are {', '.join(found)}" if found else "there are no runs in this workspace yet"


SUMMARY_KEYS = ("iter", "commit", "status", "val", "delta", "margin", "seconds", "cost_usd", "hypothesis")


def summary(workspace: Path, name: str) -> dict:
    """What `arctl status` shows: the iterations, the best so far, time, cost and why the run stopped."""
    from arctl import feedback  # it renders rows, so it imports this module

    ledger, meta = open_run(workspace, name)
    best = ledger.best()
    return {
        "name": name, "metric": meta.get("metric"), "accept": meta.get("accept"),
        "iterations": len(ledger.rows), "kept": sum(r.status is Status.KEPT for r in ledger.rows),
        "best": {"iter": best.iter, "commit": best.commit, "val": best.val} if best else None,
        "seconds": sum(r.seconds for r in ledger.rows),
        "cost_usd": sum(r.cost_usd for r in ledger.rows),
        "stops": meta.get("stops", []),
        # No reason or stderr of a real job: status output may reach an agent (feedback.why says it label-free).
        "rows": [{**{k: getattr(r, k) for k in SUMMARY_KEYS}, "why": feedback.why(r)} for r in ledger.rows],
    }
