"""Frozen sources: what is uploaded is an immutable snapshot in cache/staging.

A hard link when the source is on the same filesystem (instant, no extra space), a copy otherwise.
The fingerprint (size, mtime, sha256) taken here is checked before every run of the job.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from studio.durable import sha256_file  # noqa: F401 - the one copy (engine.py imports it from here)
from studio.uploader.errors import UploadError

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    path: Path
    size: int
    mtime_ns: int
    sha256: str
    owned: bool   # we created it, so we delete it after COMPLETED


def freeze(source: Path, staging: Path, job_id: str) -> Snapshot:
    """Snapshot ``source`` into ``staging``. Files already in staging (exports) are used as they are."""
    source = Path(source)
    if not source.is_file():
        raise UploadError(f"{source} does not exist or is not a file.")
    staging.mkdir(parents=True, exist_ok=True)
    if source.resolve().parent == staging.resolve():
        target = source
    else:
        target = staging / f"upload-{job_id}-{source.name}"
        try:
            os.link(source, target)
        except OSError:
            try:
                shutil.copyfile(source, target)
                shutil.copystat(source, target)
            except OSError as e:
                target.unlink(missing_ok=True)
                raise UploadError(f"Could not make a copy of {source.name} to upload ({e.strerror or e}); "
                                  "free some disk space and try again.") from None
    st = target.stat()
    return Snapshot(target, st.st_size, st.st_mtime_ns, sha256_file(target), owned=True)
