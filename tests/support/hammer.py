"""A child process that hammers one profile (edits, renames, trash/restore, imports) and prints an
acknowledgement line after every write that *returned* — shared by the multi-process tests.

    python hammer.py DATA_DIR SAMPLE WORKER ROUNDS SHARED_DRAFT_ID

Lines: ``ack edit <id> <caption>``, ``ack rename <id> <title>``, ``ack trash <id> <0|1>``,
``ack import <id>``, ``ack shared <caption>``; a failure is ``fail <op> <class>: <message>``.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path


def main(data_dir: str, sample: str, worker: str, rounds: int, shared_id: str) -> int:
    from studio.app import build

    studio = build(data_dir)
    store = studio.drafts
    src = Path(data_dir) / f"hammer-{worker}.mp4"
    shutil.copyfile(sample, src)

    def attempt(op: str, fn):  # noqa: ANN001, ANN202
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the test
            print(f"fail {op} {e.__class__.__name__}: {e}", flush=True)
            return None

    mine = attempt("import", lambda: store.import_files([src], title=f"w{worker}"))
    if mine is None:
        return 1
    print(f"ack import {mine.id}", flush=True)
    go = Path(data_dir) / "go"
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:  # start together: contention is the point
        time.sleep(0.01)
    trashed = False
    for k in range(rounds):
        caption = f"{worker}-{k}"
        d = attempt("get", lambda: store.get(mine.id))
        if d is not None and attempt("edit", lambda: store.update_edit(mine.id, {**d.edit, "caption": caption})):
            print(f"ack edit {mine.id} {caption}", flush=True)
        s = attempt("get", lambda: store.get(shared_id))
        if s is not None and attempt("shared", lambda: store.update_edit(shared_id, {**s.edit, "caption": caption})):
            print(f"ack shared {caption}", flush=True)
        if k % 5 == 0:
            title = f"w{worker} r{k}"
            if attempt("rename", lambda: store.rename(mine.id, title)) is None:
                print(f"ack rename {mine.id} {title}", flush=True)
        if k % 7 == 3:
            op = store.restore if trashed else store.delete
            if attempt("trash", lambda: op([mine.id])) is not None:
                trashed = not trashed
                print(f"ack trash {mine.id} {int(trashed)}", flush=True)
        if k % 25 == 10:
            new = attempt("import", lambda: store.import_files([src], title=f"w{worker} import {k}"))
            if new is not None:
                print(f"ack import {new.id}", flush=True)
    studio.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))
