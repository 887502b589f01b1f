"""Frozen sources: what is uploaded is a snapshot in cache/staging, owned by one job.

- A user's file gets the job's own hard link in staging when it is queued: instant whatever its
  size, no second copy on the disk. The queued bytes stay when the original is deleted or moved; a
  new version saved the usual way while it uploads (a new file renamed over it) changes nothing
  that is sent, the link keeps the old one (saved before the upload starts, it is what gets
  uploaded, as with a copy: a changed original is frozen again). What the link cannot stop is a
  program writing into the same file: the engine watches the file's fingerprint (size, mtime,
  ctime, inode) while it uploads and, when it changes, starts again from zero with the new content
  and says so; the object is never a mix. (A copy made when queueing would keep the old bytes even
  then, but costs writing the whole file again, and on a busy 2-core machine about a second per 512
  MiB before the upload can finish, for every upload.) Where no link can be made (another
  filesystem, a file of another owner), the file is copied (a reflink where the filesystem can,
  else the kernel's copy_file_range) and fsynced, so the queued bytes are kept as they were.
- An export the app wrote itself (a file in staging, written once and renamed into place, never
  rewritten) is linked the same way: one job finishing (and deleting its link) never takes the file
  from another, and the export itself stays for reuse.

Nothing is hashed here: the whole-file sha256 is computed by the engine from the very bytes it
sends, part by part, so no byte is read for hashing before the first one is on the wire. The
fingerprint (size, mtime) taken here is checked before every run, and by content (part digests,
the original) where it changed.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import dataclass, replace
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
    source_size: int | None = None    # the original's fingerprint, for a user's file (linked or copied)
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
    return _link(source, target, original=not is_app_export(source, staging))


def refreeze(job) -> Snapshot:  # noqa: ANN001 - store.UploadJob
    """The job's original (it changed) frozen again as when it was queued, in place of the old snapshot."""
    source, staged = Path(job.source_path), Path(job.staging_path)
    tmp = staged.with_name(staged.name + ".new")
    snap = _link(source, tmp, original=True)
    os.replace(tmp, staged)
    return replace(snap, path=staged)


def _link(source: Path, target: Path, *, original: bool) -> Snapshot:
    """The job's own hard link to an export or to a user's ``original`` (whose fingerprint is kept, to
    tell later whether it changed). Copied now where no link can be made (another filesystem,
    protected_hardlinks, a filesystem without links)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        return _private_copy(source, target)
    st = target.stat()
    fingerprint = {"source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns} if original else {}
    return Snapshot(target, st.st_size, st.st_mtime_ns, None, owned=True, method="link", **fingerprint)


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
