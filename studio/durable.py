"""Durable files: the one copy of fsync, atomic writes, content hashes and cross-process file locks.

- ``fsync_file`` / ``fsync_dir``: a file's bytes, or a folder's names, survive a power cut.
- ``atomic_write_bytes`` / ``atomic_write_json``: readers see the old file or the new one, never half.
- ``sha256_file``: the content hash (cancellable between chunks).
- ``lock`` / ``locked``: advisory locks released by the OS when the process dies, even by kill -9.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

CHUNK = 4 << 20


def fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make the names in ``path`` durable (a rename or create inside it). A no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (PermissionError, IsADirectoryError):  # Windows cannot open folders; NTFS journals names
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike, data: object, *, mode: int = 0o644) -> None:
    atomic_write_bytes(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"), mode=mode)


def sha256_file(path: str | os.PathLike, cancel=None) -> str | None:  # noqa: ANN001 - threading.Event
    """The hex sha256 of the file's bytes; None if ``cancel`` was set before the end."""
    import hashlib   # not at import: the GUI's start loads this module for pid_alive() alone

    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            if cancel is not None and cancel.is_set():
                return None
            h.update(view[:n])
    return h.hexdigest()


def lock(f: IO | int, *, blocking: bool = True) -> bool:
    """Lock the open file (object or descriptor) ``f`` exclusively. Returns False when ``blocking``
    is off and another process holds it."""
    fd = f if isinstance(f, int) else f.fileno()
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            # LK_LOCK retries for about 10 s; good enough for the short locks we take
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def unlock(f: IO | int) -> None:
    fd = f if isinstance(f, int) else f.fileno()
    try:
        import fcntl
    except ImportError:
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the lock file ``path`` (created if needed) for the ``with`` block.
    Raises OSError when the lock file cannot be created."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        lock(fd, blocking=True)
        try:
            yield
        finally:
            unlock(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a lock or marker left by a process that is gone is stale)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # it exists, it is just not ours
        return True
    return True
