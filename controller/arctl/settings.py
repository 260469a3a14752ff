"""arctl.toml turned into settings: the one place that knows the keys, their types and their defaults.

Every command reads the workspace's settings through `load`, and every limit a job runs under
comes from `Settings.limits`, so `arctl eval`, `arctl run` and `arctl verify` can never disagree
about a budget. Command-line options override single values with `dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from arctl.errors import ArctlError
from arctl.sandbox.policy import Limits, MiB
from arctl.sandbox.pool import EngineSpec

FILE = "arctl.toml"
AGENT_KINDS = ("auto", "claude", "command", "compose", "catalog")
RULES = ("noise", "strict")
_LIMITS = Limits()  # the sandbox's own defaults are the budget's defaults


@dataclasses.dataclass(frozen=True)
class Budget:
    deadline: float = _LIMITS.deadline  # wall-clock seconds for all folds of one candidate
    memory_mib: int = _LIMITS.memory // MiB  # per fold container
    cpus_per_job: float = _LIMITS.cpus_per_job


@dataclasses.dataclass(frozen=True)
class Agent:
    kind: str = "auto"
    model: str = "claude-sonnet-4-6"
    command: str = ""
    timeout: float = 900.0  # seconds an agent may take for one proposal
    history: int = 12  # recent attempts shown to the agent
    env: tuple[str, ...] = ("ANTHROPIC_API_KEY",)  # the only host variables a command agent gets
    paths: tuple[str, ...] = ()  # host paths a jailed command agent may read ("PATH") or write ("PATH:rw")


@dataclasses.dataclass(frozen=True)
class Accept:
    rule: str = "noise"
    z: float = 1.0
    min_delta: float = 1e-4
    tripwire: float = 0.99  # a validation roc_auc this high (from a baseline below it) stops the run


@dataclasses.dataclass(frozen=True)
class Sandbox:
    runtime: str = _LIMITS.runtime  # "" = the engine's default (runc); e.g. "runsc" (gVisor) where installed
    isolation: str = "shared"  # shared: fold jobs run side by side; strict: one at a time


@dataclasses.dataclass(frozen=True)
class Run:
    workers: int = 1  # candidates in flight at once (inflight.py); 1 is one candidate at a time


@dataclasses.dataclass(frozen=True)
class Settings:
    task: dict = dataclasses.field(default_factory=lambda: {"name": "heart"})  # the [task] table, see tasks.py
    budget: Budget = Budget()
    agent: Agent = Agent()
    accept: Accept = Accept()
    sandbox: Sandbox = Sandbox()
    run: Run = Run()
    engines: tuple[EngineSpec, ...] = ()  # [[engines]]: none means the local engine alone

    def limits(self) -> Limits:
        return dataclasses.replace(_LIMITS, deadline=self.budget.deadline, memory=self.budget.memory_mib * MiB,
                                   cpus_per_job=self.budget.cpus_per_job, runtime=self.sandbox.runtime,
                                   strict=self.sandbox.isolation == "strict")

    def with_sandbox(self, **values) -> Settings:
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, sandbox=dataclasses.replace(self.sandbox, **given)) if given else self

    def with_budget(self, **values) -> Settings:
        """A copy with the given budget values replaced; None means "not given" and keeps the setting."""
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, budget=dataclasses.replace(self.budget, **given)) if given else self

    def with_agent(self, **values) -> Settings:
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, agent=dataclasses.replace(self.agent, **given)) if given else self

    def with_run(self, **values) -> Settings:
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, run=dataclasses.replace(self.run, **given)) if given else self

    def with_accept(self, **values) -> Settings:
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, accept=dataclasses.replace(self.accept, **given)) if given else self


_TABLES = {"budget": Budget, "agent": Agent, "accept": Accept, "sandbox": Sandbox, "run": Run}
ISOLATION = ("shared", "strict")
_COMMENTS = {
    ("budget", "deadline"): "wall-clock seconds for all folds of one candidate",
    ("budget", "memory_mib"): "per fold container",
    ("budget", "cpus_per_job"): "per fold container",
    ("agent", "kind"): "auto (claude when ANTHROPIC_API_KEY is set, else compose) | claude | command | compose | catalog",
    ("agent", "command"): "for kind = \"command\": e.g. \"claude -p 'Follow program.md; edit train.py'\"",
    ("agent", "timeout"): "seconds an agent may take for one proposal",
    ("agent", "history"): "recent attempts shown to the agent",
    ("agent", "env"): "host variables passed to a command agent; nothing else of your environment is",
    ("agent", "paths"): "what a jailed command agent may see of your files: \"~/.claude/.credentials.json:rw\", \"/opt/tool\"",
    ("accept", "rule"): "noise: the paired per-fold gain must clear z standard errors; strict: any gain",
    ("accept", "tripwire"): "a validation roc_auc this high stops the run: on real data it means a leak",
    ("sandbox", "runtime"): "OCI runtime for jobs: \"\" = engine default; \"runsc\" (gVisor) or \"kata-runtime\" if installed",
    ("sandbox", "isolation"): "shared: fold jobs side by side; strict: one at a time (no contention between them)",
    ("run", "workers"): "candidates in flight at once (--workers); each is judged against the best when it finishes",
}

HEART_TASK = '''[task]
name = "heart"              # built-in task: UCI Cleveland heart disease, binary, roc_auc
# data = "path/to/processed.cleveland.data"   # a local copy instead of downloading
'''


def template(task: str = HEART_TASK) -> str:
    """A new workspace's arctl.toml: the task table, then every other setting at its default."""
    import json

    lines = ["# arctl workspace settings. Command-line options override them.", "", task.rstrip("\n")]
    for table, cls in _TABLES.items():
        lines += ["", f"[{table}]"]
        for field in dataclasses.fields(cls):
            value = json.dumps(field.default)
            comment = _COMMENTS.get((table, field.name))
            lines.append(f"{field.name} = {value}".ljust(28) + (f"# {comment}" if comment else "").rstrip())
    return "\n".join(line.rstrip() for line in lines) + "\n"


def load(workspace: Path) -> Settings:
    """The settings of a workspace (defaults when it has no arctl.toml), or an error naming the bad line or key."""
    path = workspace / FILE
    if not path.is_file():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ArctlError(f"{path} is not valid TOML: {e}. Fix that line and run the command again.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ArctlError(f"{path} cannot be read: {e}") from None
    unknown = sorted(set(raw) - {"task", "engines", *_TABLES})
    if unknown:
        raise ArctlError(f"{path}: unknown table(s) {', '.join(unknown)}; the tables are [task], "
                         + ", ".join(f"[{t}]" for t in _TABLES) + ", [[engines]]")
    task = raw.get("task") or {"name": "heart"}
    if not isinstance(task, dict):
        raise ArctlError(f"{path}: task must be a table ([task])")
    settings = Settings(task=task, engines=_engines(path, raw.get("engines", [])),
                        **{name: _table(path, name, cls, raw.get(name, {})) for name, cls in _TABLES.items()})
    if settings.accept.rule not in RULES:
        raise ArctlError(f"{path}: accept.rule must be one of {', '.join(RULES)}, not {settings.accept.rule!r}")
    if settings.agent.kind not in AGENT_KINDS:
        raise ArctlError(f"{path}: agent.kind must be one of {', '.join(AGENT_KINDS)}, not {settings.agent.kind!r}")
    if settings.sandbox.isolation not in ISOLATION:
        raise ArctlError(f"{path}: sandbox.isolation must be one of {', '.join(ISOLATION)}, "
                         f"not {settings.sandbox.isolation!r}")
    if settings.budget.deadline <= 0 or settings.budget.memory_mib <= 0 or settings.budget.cpus_per_job <= 0:
        raise ArctlError(f"{path}: budget values must be positive")
    if settings.run.workers < 1:
        raise ArctlError(f"{path}: run.workers must be 1 or more, not {settings.run.workers}")
    return settings


def _engines(path: Path, values) -> tuple[EngineSpec, ...]:
    """[[engines]]: url ("" or absent: the local engine; ssh://user@host; tcp://host:2376), slots, name, tls_cert_path."""
    if not isinstance(values, list):
        raise ArctlError(f"{path}: engines must be an array of tables ([[engines]])")
    specs = tuple(_table(path, "engines", EngineSpec, v) for v in values)
    for spec in specs:
        if spec.url and not spec.url.startswith(("ssh://", "tcp://", "unix://", "http://", "https://")):
            raise ArctlError(f"{path}: engines.url {spec.url!r} is not a Docker address: use ssh://user@host, "
                             "tcp://host:2376 (with tls_cert_path) or unix:///path/to/docker.sock")
        if spec.slots < 0:
            raise ArctlError(f"{path}: engines.slots must be 0 (the CPU budget's share) or more")
    names = [s.label for s in specs]
    if len(set(names)) != len(names):
        raise ArctlError(f"{path}: two [[engines]] have the same name or url; give each a distinct name")
    return specs


def _table(path: Path, name: str, cls, values):
    if not isinstance(values, dict):
        raise ArctlError(f"{path}: {name} must be a table ([{name}])")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ArctlError(f"{path}: unknown key(s) {', '.join(f'{name}.{k}' for k in unknown)}; "
                         f"[{name}] knows {', '.join(fields)}")
    out = {}
    for key, value in values.items():
        kind = type(fields[key].default)
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ArctlError(f"{path}: {name}.{key} must be a list of strings, not {value!r}")
            value = tuple(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise ArctlError(f"{path}: {name}.{key} must be {'a number' if kind in (int, float) else 'a ' + kind.__name__}"
                             f", not {value!r}")
        out[key] = value
    return cls(**out)
