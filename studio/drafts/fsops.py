"""The write layer under the draft store: durable copies, moves, hashing, fsync.

Every byte the store writes goes through ``write_chunk`` so tests can inject faults (ENOSPC)
exactly where a real full disk would bite. fsync and hashing are studio.durable's (the one copy).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from studio.durable import CHUNK, fsync_dir, fsync_file, sha256_file  # noqa: F401 - re-exported for the store

__all__ = ["copy_hashed", "fsync_dir", "fsync_file", "read_json", "remove_tree", "same_filesystem",
           "sha256_file", "write_chunk", "write_journal"]


def write_chunk(f, data: bytes) -> None:  # noqa: ANN001 - binary file object
    f.write(data)


def same_filesystem(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


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
