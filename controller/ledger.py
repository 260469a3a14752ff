"""The run's record: a JSONL ledger (everything) and results.tsv (a row per iteration, for people).

Each row is flushed and fsynced before the loop moves on, so a crash never loses a
recorded iteration. results.tsv is derived from the ledger and rewritten from it on resume.
Sealed test results are never written here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TSV_COLUMNS = ["iter", "commit", "val", "delta", "margin", "seconds", "status", "hypothesis"]


class Ledger:
    def __init__(self, run_dir: Path):
        self.dir = run_dir
        self.path = run_dir / "ledger.jsonl"
        self.tsv = run_dir / "results.tsv"
        run_dir.mkdir(parents=True, exist_ok=True)
        everything = self._read()
        self.rows = [r for r in everything if "event" not in r]  # iterations
        self.events = [r for r in everything if "event" in r]  # e.g. a reveal of sealed test scores
        self._rewrite_tsv()

    def _read(self) -> list[dict]:
        if not self.path.exists():
            return []
        rows = []
        with open(self.path) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a torn last line from a crash mid-write: drop it, the iteration is redone
        if rows and self.path.read_text().count("\n") != len(rows):
            self._rewrite(self.path, "".join(json.dumps(r) + "\n" for r in rows))
        return rows

    def _write(self, row: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def append_event(self, event: dict) -> None:
        self._write(event)
        self.events.append(event)

    def append(self, row: dict) -> None:
        self._write(row)
        self.rows.append(row)
        with open(self.tsv, "a") as f:
            f.write(self._tsv_line(row))
            f.flush()
            os.fsync(f.fileno())

    @property
    def next_iter(self) -> int:
        return self.rows[-1]["iter"] + 1 if self.rows else 0

    def best(self) -> dict | None:
        kept = [r for r in self.rows if r["status"] in ("KEPT", "BASELINE")]
        return kept[-1] if kept else None

    def _rewrite_tsv(self) -> None:
        self._rewrite(self.tsv, "\t".join(TSV_COLUMNS) + "\n" + "".join(self._tsv_line(r) for r in self.rows))

    @staticmethod
    def _tsv_line(row: dict) -> str:
        def num(v):
            return "" if v is None else f"{v:.6f}"

        hypothesis = (row.get("hypothesis") or "").replace("\t", " ").replace("\n", " ")
        return "\t".join([str(row["iter"]), (row.get("commit") or "")[:12], num(row.get("val")),
                          num(row.get("delta")), num(row.get("margin")), f"{row.get('seconds', 0):.1f}",
                          row["status"], hypothesis]) + "\n"

    @staticmethod
    def _rewrite(path: Path, text: str) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def read_tsv(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]
