"""Read every regular file a job could open (as the same user) to its end; print {"files", "bytes"} as JSON.

Run inside a hardened container of the sandbox image before any job starts (arctl's preread.py passes it
to `python3 -c`; compose.yaml's `preread` service mounts it); it runs no candidate code. The mounts of a
job's own files are skipped: they are the job's, not shared.
"""

import json
import os
import stat

SKIP = {"/proc", "/sys", "/dev", "/tmp", "/out", "/job", "/candidate"}


def read_all(top: str = "/") -> dict:
    files = size = 0
    buf = bytearray(1 << 20)
    for root, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in SKIP]
        for name in names:
            path = os.path.join(root, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                with open(path, "rb", buffering=0) as f:
                    while n := f.readinto(buf):
                        size += n
                files += 1
            except OSError:
                pass
    return {"files": files, "bytes": size}


if __name__ == "__main__":
    print(json.dumps(read_all()))
