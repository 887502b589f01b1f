"""Bounded cache folders evict the least recently used files first."""

from __future__ import annotations

import os
import time

from studio.cachedir import evict_lru, touch


def test_least_recently_used_go_first_and_other_files_stay(tmp_path):
    now = time.time()
    for i, name in enumerate(["a.png", "b.png", "c.png"]):
        p = tmp_path / name
        p.write_bytes(b"x" * 100)
        os.utime(p, (now - 100 + i, now - 100 + i))   # a oldest, c newest
    (tmp_path / "keep.json").write_bytes(b"y" * 1000)     # not ours: never counted or deleted
    assert touch(tmp_path / "a.png")                      # a used just now
    freed = evict_lru(tmp_path, 200, (".png",))
    assert freed == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "c.png", "keep.json"]
    assert not touch(tmp_path / "b.png")
    assert evict_lru(tmp_path / "missing", 0, (".png",)) == 0
