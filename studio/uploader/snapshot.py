"""Frozen sources: what is uploaded is an immutable snapshot in cache/staging, owned by one job.

- A user's file is cloned (a reflink, FICLONE, where the filesystem can: instant, shares blocks
  until one side is written) or else copied, then fsynced: editing the original can no longer
  change what is sent. A hard link would share the bytes, so it is never used for those.
- An export the app wrote itself (a file in staging, written once and renamed into place, never
  rewritten) needs no copy: each job gets its own hard link to it, so one job finishing (and
  deleting its link) never takes the file from another, and the export itself stays for reuse.

Freezing reads each byte once, in the kernel where it can (copy_file_range), and hashes nothing:
the whole-file sha256 is computed by the engine from the very bytes it sends, part by part, so no
byte is read for hashing before the first one is on the wire. The fingerprint (size, mtime) taken
here is checked before every run, and by content (part digests, the original) where it changed.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from studio.durable import sha256_file  # noqa: F401 - the one copy (engine.py imports it from here)
from studio.uploader.errors import UploadError

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
FICLONE = 0x40049409   # linux/fs.h _IOW(0x94, 9, int)


@dataclass(frozen=True)
class Snapshot:
    path: Path
    size: int
    mtime_ns: int
    sha256: str | None                # None: computed by the engine from the bytes it sends
    owned: bool                       # we created it, so we delete it after COMPLETED
    source_size: int | None = None    # the original's fingerprint, when the snapshot is a private copy
    source_mtime_ns: int | None = None
    method: str = "link"              # "reflink" | "copy" | "link"


def is_app_export(source: Path, staging: Path) -> bool:
    """A file the app itself wrote into staging (an export): immutable once in place."""
    try:
        return Path(source).resolve().parent == Path(staging).resolve() and \
            not Path(source).name.startswith("upload-")
    except OSError:
        return False


def staged_name(job_id: str, source: Path) -> str:
    return f"upload-{job_id}-{Path(source).name}"


def freeze(source: Path, staging: Path, job_id: str) -> Snapshot:
    """Snapshot ``source`` into ``staging`` for job ``job_id``. Raises UploadError with a sentence."""
    source = Path(source)
    if not source.is_file():
        raise UploadError(f"{source} does not exist or is not a file.")
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UploadError(f"Cannot create the staging folder {staging} ({e.strerror or e}).") from None
    target = staging / staged_name(job_id, source)
    if is_app_export(source, staging):
        return _link_export(source, target)
    return _private_copy(source, target)


def refreeze(job) -> Snapshot:  # noqa: ANN001 - store.UploadJob
    """A fresh private copy of the job's original (it changed), in place of the old one."""
    source, staged = Path(job.source_path), Path(job.staging_path)
    tmp = staged.with_name(staged.name + ".new")
    tmp.unlink(missing_ok=True)
    snap = _private_copy(source, tmp)
    os.replace(tmp, staged)
    return Snapshot(staged, snap.size, staged.stat().st_mtime_ns, snap.sha256, True, snap.source_size,
                    snap.source_mtime_ns, snap.method)


def _link_export(source: Path, target: Path) -> Snapshot:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
        method = "link"
    except OSError:
        return _private_copy(source, target)
    st = target.stat()
    return Snapshot(target, st.st_size, st.st_mtime_ns, None, owned=True, method=method)


def _private_copy(source: Path, target: Path) -> Snapshot:
    """Clone or copy, fsync. The original must not change while it is copied."""
    for _attempt in range(3):
        before = source.stat()
        try:
            method = _clone_or_copy(source, target)
            _fsync(target)
        except OSError as e:
            target.unlink(missing_ok=True)
            if e.errno == errno.ENOSPC:
                raise UploadError(f"The disk is full: there is no room for the copy of {source.name} that is "
                                  "uploaded; free some disk space and try again.") from None
            raise UploadError(f"Could not make a copy of {source.name} to upload ({e.strerror or e}); "
                              "check the file and the disk, and try again.") from None
        after = source.stat()
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            st = target.stat()
            return Snapshot(target, st.st_size, st.st_mtime_ns, None, owned=True,
                            source_size=after.st_size, source_mtime_ns=after.st_mtime_ns, method=method)
        log.info("%s changed while it was copied; copying again", source.name)
    target.unlink(missing_ok=True)
    raise UploadError(f"{source.name} keeps changing while it is copied for upload; wait until the program "
                      "writing it has finished, then enqueue it again.")


def _clone_or_copy(source: Path, target: Path) -> str:
    target.unlink(missing_ok=True)
    with open(source, "rb") as fin, open(target, "xb") as fout:
        try:
            import fcntl

            fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
            return "reflink"
        except (ImportError, OSError):
            pass   # not Linux, or a filesystem without reflinks (ext4, tmpfs, across filesystems)
        if _kernel_copy(fin.fileno(), fout.fileno()):
            return "copy"
        fin.seek(0)
        fout.seek(0)
        fout.truncate()
        shutil.copyfileobj(fin, fout, 4 * CHUNK)
    return "copy"


def _kernel_copy(fin: int, fout: int) -> bool:
    """copy_file_range: the kernel copies page cache to page cache, no trip through Python. False
    where it is not offered (another OS, an old kernel, some filesystems); the caller copies then."""
    copy = getattr(os, "copy_file_range", None)
    if copy is None:
        return False
    size = os.fstat(fin).st_size
    done = 0
    try:
        while done < size:
            n = copy(fin, fout, min(size - done, 1 << 30), done, done)
            if n == 0:
                break   # the file got shorter: the caller's before/after stat sees it
            done += n
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        return False
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        dfd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
