"""The tar archives that carry files into and out of a job container (offline)."""

from __future__ import annotations

import io
import tarfile

import pytest

from arctl.sandbox import transfer


def out_archive(*members: tarfile.TarInfo, data: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.addfile(_dir("out"))
        for m in members:
            t.addfile(m, io.BytesIO((data or {}).get(m.name, b"")) if m.isreg() else None)
    return buf.getvalue()


def _dir(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


def _file(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    return info


def _special(name, kind, target=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def chunks(raw: bytes, size: int = 1000):
    return (raw[i:i + size] for i in range(0, len(raw), size))


WANTED = {"predictions.csv": 100, "phases.json": 50}


def test_wanted_regular_files_are_taken_and_the_rest_counted():
    raw = out_archive(_file("out/predictions.csv", 5), _file("out/other", 3000),
                      data={"out/predictions.csv": b"a,b\n1", "out/other": b"x" * 3000})
    box = transfer.read_outbox(chunks(raw), WANTED, budget=1 << 20)
    assert box.files == {"predictions.csv": b"a,b\n1"}
    assert (box.used, box.entries, box.refused) == (3005, 2, {})


@pytest.mark.parametrize("member, why", [
    (_special("out/predictions.csv", tarfile.SYMTYPE, "/in/job/train.csv"), "not a regular file"),
    (_special("out/predictions.csv", tarfile.LNKTYPE, "out/x"), "not a regular file"),
    (_special("out/predictions.csv", tarfile.FIFOTYPE), "not a regular file"),
    (_special("out/predictions.csv", tarfile.CHRTYPE), "not a regular file"),
    (_dir("out/predictions.csv"), "not a regular file"),
    (_file("out/predictions.csv", 101), "larger than 100 bytes"),
])
def test_links_fifos_devices_and_oversize_are_refused_unread(member, why):
    raw = out_archive(member, data={"out/predictions.csv": b"x" * 101})
    box = transfer.read_outbox(chunks(raw), WANTED, budget=1 << 20)
    assert "predictions.csv" not in box.files
    assert why in box.refused["predictions.csv"]


def test_the_stream_is_never_read_past_its_budget():
    raw = out_archive(_file("out/big", 50_000), data={"out/big": b"x" * 50_000})
    with pytest.raises(OverflowError):
        transfer.read_outbox(chunks(raw), WANTED, budget=20_000)


def test_inbound_files_are_root_owned_read_only_and_the_go_signal_comes_last(tmp_path):
    (tmp_path / "train.csv").write_text("a\n1\n")
    with transfer.job_archive(b"print(1)", tmp_path) as f, tarfile.open(fileobj=f) as t:
        members = t.getmembers()
    assert members[-1].name == transfer.READY
    assert {(m.uid, m.gid) for m in members} == {(0, 0)}
    assert {m.mode for m in members if m.isdir()} == {0o555}
    assert {m.mode for m in members if m.isreg()} == {0o444}
    assert [m.name for m in members] == ["candidate", "candidate/train.py", "job", "job/train.csv", ".ready"]
