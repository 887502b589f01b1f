"""Advisory file locks (released by the OS when the process dies, even by kill -9)."""

from __future__ import annotations

from typing import IO


def lock(f: IO, *, blocking: bool) -> bool:
    """Lock the open file ``f``. Returns False when ``blocking`` is off and another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            # LK_LOCK retries for about 10 s; good enough for the short launch lock
            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(f, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
