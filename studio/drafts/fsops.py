"""The write layer under the draft store: durable copies, moves, hashing, fsync.

Every byte the store writes goes through ``write_chunk`` so tests can inject faults (ENOSPC)
exactly where a real full disk would bite.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

CHUNK = 4 << 20


def write_chunk(f, data: bytes) -> None:  # noqa: ANN001 - binary file object
    f.write(data)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def same_filesystem(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def sha256_file(path: Path, cancel=None) -> str | None:  # noqa: ANN001 - threading.Event
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            if cancel is not None and cancel.is_set():
                return None
            h.update(chunk)
    return h.hexdigest()


def copy_hashed(src: Path, dest: Path) -> tuple[int, str]:
    """Copy src to dest, fsync it, then re-read dest and check its hash. Returns (size, sha256)."""
    h = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        while chunk := fin.read(CHUNK):
            h.update(chunk)
            write_chunk(fout, chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    digest = h.hexdigest()
    if sha256_file(dest) != digest:
        raise OSError(f"the copy of {src.name} does not match the original (disk error?)")
    return size, digest


def write_journal(folder: Path, data: dict) -> None:
    """journal.json in a fresh folder: file and folder fsynced (no temp file: the folder is new)."""
    with open(folder / "journal.json", "xb") as f:
        write_chunk(f, json.dumps(data).encode())
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(folder)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
