"""The container policy every job runs under, as docker SDK keyword arguments."""

from __future__ import annotations

import dataclasses
import os

from docker.types import LogConfig, Ulimit

MiB = 1024 * 1024
NOBODY = "65534:65534"
LABEL = "org.arctl.managed"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one job container and of one candidate as a whole."""

    deadline: float = 180.0  # seconds of wall clock for all jobs of a candidate together
    memory: int = 2048 * MiB  # per job; swap is disabled by memory+swap == memory
    cpus_per_job: float = 1.0
    cpu_budget: float = float(os.cpu_count() or 1)  # jobs of a candidate run concurrently within it
    pids: int = 256
    tmp_size: int = 256 * MiB
    out_size: int = 64 * MiB  # the output directory, and the largest file a job may write
    predictions_size: int = 16 * MiB
    out_entries: int = 64
    nofile: int = 1024
    log_size: int = 1 * MiB  # the docker log kept on disk; the host reads a tail of it

    @property
    def concurrency(self) -> int:
        return max(1, int(self.cpu_budget // self.cpus_per_job))


def outbox_options(limits: Limits) -> dict:
    """The job's one writable directory, /out: a tmpfs volume the kernel caps in bytes and entries.

    One page of headroom over the cap lets the host tell "reached the cap" (refused) from "wrote
    up to it"; the volume is owned by the job's user and readable by the host after exit."""
    return {"type": "tmpfs", "device": "tmpfs",
            "o": f"size={limits.out_size + OUT_HEADROOM},nr_inodes={limits.out_entries + 2},uid=65534,gid=65534,"
                 "mode=0700,noexec,nosuid,nodev"}


OUT_HEADROOM = 1 * MiB


def container_kwargs(limits: Limits, mounts: dict[str, tuple[str, str]], labels: dict[str, str]) -> dict:
    """docker `containers.create` arguments for one job.

    mounts maps a volume name (or a host path) to (container path, "ro" | "rw").
    """
    threads = str(max(1, int(limits.cpus_per_job)))
    return dict(
        volumes={host: {"bind": inside, "mode": mode} for host, (inside, mode) in mounts.items()},
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"rw,noexec,nosuid,nodev,size={limits.tmp_size}"},
        shm_size=64 * MiB,
        mem_limit=limits.memory,
        memswap_limit=limits.memory,
        nano_cpus=int(limits.cpus_per_job * 1e9),
        pids_limit=limits.pids,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        user=NOBODY,
        init=True,
        ulimits=[
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="fsize", soft=limits.out_size, hard=limits.out_size),
            Ulimit(name="core", soft=0, hard=0),
        ],
        log_config=LogConfig(type="json-file", config={"max-size": str(limits.log_size), "max-file": "1"}),
        # A fixed environment of our own: nothing of the host's (API keys above all) gets in.
        environment={
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "MPLCONFIGDIR": "/tmp",
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        },
        working_dir="/tmp",
        labels={LABEL: "1", **labels},
    )
