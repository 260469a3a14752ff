"""Files into and out of a job container through the Docker API (tar archives), never host mounts.

So a remote engine works exactly like the local one. Inbound files are root-owned and read-only
(files 0444, directories 0555): the job runs as nobody without capabilities and cannot change them.
Outbound, only regular files within their caps are taken; links, FIFOs, devices are refused,
nothing is followed, and the stream is never read past what the capped /out can hold.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
import tempfile
from pathlib import Path

INBOX = "/in"  # the job's read-only inputs: harness/, candidate/train.py, job/*
READY = ".ready"  # the last member of the job's archive: the go signal of a waiting container
SPOOL = 8 * 2**20  # archives larger than this are spooled to a temporary file, not held in memory


def _add(archive: tarfile.TarFile, name: str, data: bytes | None = None, source: Path | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.uid = info.gid = 0
    info.mtime = 0
    if data is None and source is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o555
        archive.addfile(info)
        return
    info.mode = 0o444
    if source is not None:
        info.size = source.stat().st_size
        with open(source, "rb") as f:
            archive.addfile(info, f)
    else:
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def harness_archive(harness_dir: Path) -> bytes:
    """harness/*.py, put into a container's inbox before it starts."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        _add(archive, "harness")
        for p in sorted(harness_dir.glob("*.py")):
            _add(archive, f"harness/{p.name}", p.read_bytes())
    return buf.getvalue()


def job_archive(candidate: bytes, job_dir: Path):
    """candidate/train.py, the job's files, then the go signal: a file object to stream to the engine."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    with tarfile.open(fileobj=spool, mode="w") as archive:
        _add(archive, "candidate")
        _add(archive, "candidate/train.py", candidate)
        _add(archive, "job")
        for f in sorted(job_dir.iterdir()):
            if f.is_file():
                _add(archive, f"job/{f.name}", source=f)
        _add(archive, READY, b"")  # last: the container starts only when everything before it is there
    spool.seek(0)
    return spool


@dataclasses.dataclass
class Outbox:
    """What a job left in /out: wanted regular files, what else was there, and the space it used."""

    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    refused: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> why
    used: int = 0  # bytes of all regular files
    entries: int = 0


class _Chunks(io.RawIOBase):
    """A read-only file over the engine's stream of chunks, refusing to read past a byte budget."""

    def __init__(self, chunks, budget: int):
        self._chunks, self._rest, self.budget = iter(chunks), b"", budget

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._rest:
            self._rest = next(self._chunks, b"")
            if not self._rest:
                return 0
        n = min(len(b), len(self._rest))
        if n > self.budget:
            raise OverflowError("the output archive is larger than /out can hold")
        b[:n], self._rest = self._rest[:n], self._rest[n:]
        self.budget -= n
        return n


def read_outbox(chunks, wanted: dict[str, int], budget: int) -> Outbox:
    """Read the archive of /out (as get_archive streams it); keep the wanted files within their caps."""
    out = Outbox()
    with tarfile.open(fileobj=io.BufferedReader(_Chunks(chunks, budget)), mode="r|") as archive:
        for member in archive:
            name = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not name:
                continue  # the directory itself
            out.entries += 1
            if member.isreg():
                out.used += member.size
            if name not in wanted:
                continue
            if not member.isreg():
                out.refused[name] = f"{name} is not a regular file (link, FIFO, directory or device)"
            elif member.size > wanted[name]:
                out.refused[name] = f"{name} is larger than {wanted[name]} bytes"
            else:
                out.files[name] = archive.extractfile(member).read(wanted[name] + 1)
    return out
