"""[[engines]] in arctl.toml and how the pool spreads jobs (offline: no engine is contacted)."""

from __future__ import annotations

import pytest

from arctl import settings
from arctl.errors import ArctlError
from arctl.sandbox.pool import Engine, EngineLost, EngineSpec, Pool, build


def test_engines_are_read_with_their_slots(tmp_path):
    (tmp_path / "arctl.toml").write_text('[[engines]]\nslots = 2\n[[engines]]\nurl = "ssh://arctl@gpu"\nslots = 8\n'
                                         '[[engines]]\nname = "lab"\nurl = "tcp://lab:2376"\ntls_cert_path = "/c"\n')
    cfg = settings.load(tmp_path)
    assert cfg.engines == (EngineSpec(slots=2), EngineSpec(url="ssh://arctl@gpu", slots=8),
                           EngineSpec(url="tcp://lab:2376", name="lab", tls_cert_path="/c"))
    pool = build(list(cfg.engines), default_slots=3)
    assert [(e.name, e.slots) for e in pool.engines] == [("local", 2), ("ssh://arctl@gpu", 8), ("lab", 3)]
    assert settings.load(tmp_path / "none").engines == ()  # no file: the local engine alone
    assert [e.name for e in build([], 2).engines] == ["local"]


@pytest.mark.parametrize("text, message", [
    ('[[engines]]\nurl = "gpu-box"\n', "not a Docker address"),
    ('[[engines]]\nslots = -1\n', "slots must be 0"),
    ('[[engines]]\nslot = 1\n', "unknown key.*engines.slot"),
    ('[[engines]]\nurl = "ssh://a"\n[[engines]]\nurl = "ssh://a"\n', "same name or url"),
    ('engines = 3\n', "array of tables"),
])
def test_bad_engines_say_what(tmp_path, text, message):
    (tmp_path / "arctl.toml").write_text(text)
    with pytest.raises(ArctlError, match=message):
        settings.load(tmp_path)


def fake(name: str, slots: int, answers: bool = False) -> Engine:
    engine = Engine(EngineSpec(name=name), slots, client=object())
    engine.answers = lambda: answers  # no engine is contacted here
    return engine


def test_spread_follows_the_slots_and_touches_every_engine():
    pool = Pool([fake("a", 2), fake("b", 1)])
    picked = [e.name for e in pool.spread(6)]
    assert picked.count("a") == 4 and picked.count("b") == 2
    assert {e.name for e in Pool([fake("a", 4), fake("b", 1)]).spread(2)} == {"a", "b"}


def test_a_lost_engine_gets_no_more_jobs_and_none_left_is_an_error():
    a, b = fake("a", 1), fake("b", 1)
    pool = Pool([a, b])
    pool.lost(b)
    assert {e.name for e in pool.spread(4)} == {"a"}
    assert pool.spread(1, avoid=frozenset({"a"}))[0] is a  # nothing else left: the same engine again
    pool.lost(a)
    with pytest.raises(EngineLost, match="run the command again"):
        pool.spread(1)
    b.answers = lambda: True  # restarted: taken back
    assert pool.spread(1)[0] is b
