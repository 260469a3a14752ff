"""Text from a candidate or an agent is data: made safe to print, store or send, and capped.

`clean` is the one gate: it removes terminal escape sequences, control characters and
bidirectional overrides (which could repaint a line, e.g. "crashed" as "ok"), and caps the
length. Every text field of a ledger row goes through `cap_row` before it is written.
"""

from __future__ import annotations

import math
import re

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
                      r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
                      r"|\x1b.?")  # any other escape
# Lone surrogates too: a file name that is not UTF-8 decodes to them, and a strict UTF-8 stdout raises on them.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# Stored caps, in characters: a few KB each, whatever a candidate prints.
LIMITS = {"hypothesis": 500, "reason": 4096, "stderr_tail": 4096, "notes": 2048}
MAX_PHASES = 32


def clean(text: str | None, limit: int = 4096) -> str:
    """Untrusted text made safe to print or store: no escapes, no control characters, at most limit chars."""
    if not text:
        return ""
    text = _CONTROLS.sub("", _ESCAPES.sub("", str(text)[: limit * 4]))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str | None, width: int = 200) -> str:
    return clean(" ".join(str(text or "")[: width * 8].split()), width)


def cap_row(row) -> None:
    """Cap and clean, in place, every text field of a ledger row that a candidate or an agent wrote."""
    row.hypothesis = one_line(row.hypothesis, LIMITS["hypothesis"])
    for key in ("reason", "stderr_tail", "notes"):
        setattr(row, key, clean(getattr(row, key), LIMITS[key]))
    row.smoke = {k: clean(str(v), LIMITS["stderr_tail"]) for k, v in list((row.smoke or {}).items())[:8]}
    jobs = {}
    for name, job in list((row.jobs or {}).items())[:64]:
        job = dict(job) if isinstance(job, dict) else {}
        job["reason"] = clean(str(job.get("reason") or ""), 1024)
        phases = job.get("phases") if isinstance(job.get("phases"), dict) else {}
        job["phases"] = {clean(str(k), 40): float(v) for k, v in list(phases.items())[:MAX_PHASES]
                         if isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v)}
        jobs[clean(str(name), 40)] = job
    row.jobs = jobs


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (OverflowError, ValueError):
        return False
