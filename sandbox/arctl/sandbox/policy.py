"""The container policy every job runs under, as docker SDK keyword arguments."""

from __future__ import annotations

import dataclasses
import os
from importlib import resources

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
    runtime: str = ""  # an OCI runtime other than the engine's default, e.g. "runsc" (gVisor) or "kata-runtime"
    strict: bool = False  # fold jobs one at a time: no two of a candidate's jobs share the machine at once
    cache_defence: bool = True  # seccomp profile + pre-read image; off only to measure what they close and cost

    @property
    def concurrency(self) -> int:
        return 1 if self.strict else max(1, int(self.cpu_budget // self.cpus_per_job))


def seccomp_profile() -> str:
    """arctl's seccomp profile: Docker's default (moby v20.10.24) without the calls that evict page-cache
    pages or probe residency (fadvise64, mincore, cachestat, readahead, process_madvise; madvise COLD and
    PAGEOUT), so no job can clear or test a bit another job left in the shared page cache."""
    return resources.files(__package__).joinpath("seccomp.json").read_text()


# Docker's own masked paths (moby v20.10 oci/defaults.go), then the global counters a job could both move
# and read to signal another job running at the same time: memory, paging, load, CPU, disk, pressure.
MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/proc/meminfo", "/proc/vmstat", "/proc/loadavg", "/proc/stat", "/proc/diskstats", "/proc/pressure",
    "/proc/zoneinfo", "/proc/buddyinfo", "/proc/interrupts", "/proc/softirqs", "/proc/schedstat", "/proc/swaps",
    "/sys/devices/system/node", "/sys/block", "/sys/class/block",
]


def create(engine, image: str, command: list[str], kwargs: dict):
    """engine.containers.create, plus HostConfig.MaskedPaths, which docker-py does not expose (the engine,
    API 1.39+, does). Built as docker-py builds its own request, so every other argument means the same."""
    from docker.models.containers import _create_container_args

    masked = kwargs.pop("masked_paths", None)
    args = _create_container_args({**kwargs, "image": image, "command": command, "version": engine.api._version})
    if masked:
        args["host_config"]["MaskedPaths"] = masked
    return engine.containers.get(engine.api.create_container(**args)["Id"])


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
        security_opt=["no-new-privileges", *([f"seccomp={seccomp_profile()}"] if limits.cache_defence else [])],
        **({"runtime": limits.runtime} if limits.runtime else {}),
        **({"masked_paths": MASKED_PATHS} if limits.cache_defence else {}),  # see create()
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
