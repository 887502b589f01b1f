"""The SIGKILL crash test for DESIGN invariant 1, shared by tests/drafts and bench/bench_drafts.py.

A child process (``python crashtest.py DATA_DIR SAMPLE SEED``) saves takes, imports files, edits and
purges drafts in a loop, printing a line when a save or purge *starts* and another after it
*returns*; the parent kills it with SIGKILL — at a random moment, or a few milliseconds after a
save or a purge started, so kills really land inside them (counted: ``kills_in_save``,
``kills_in_purge``) — opens the profile (start-up recovery runs) and checks:
every row's media exists with the recorded size (and hash once recorded), no media file is without
a row, no staging is left, every save the child reported is present, and every take the child
created is either in its draft or still offered as an unsaved take.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import studio as studio_package
from studio.capture.recorder import Take

REPO = Path(studio_package.__file__).resolve().parent.parent


def child_main(data_dir: str, sample: str, seed: int) -> None:
    from studio.app import build

    rng = random.Random(seed)
    studio = build(data_dir)
    store = studio.drafts
    out = sys.stdout
    print("ready", flush=True)
    imports = Path(data_dir) / "import-src"
    imports.mkdir(exist_ok=True)
    mine: list[str] = []
    n = 0
    while True:
        n += 1
        tag = f"{seed}-{n}"
        roll = rng.random()
        if roll < 0.55:
            tmp = studio.layout.takes / f".{tag}.partial"
            tmp.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample, tmp / "take.mp4")
            (tmp / "manifest.json").write_text(json.dumps({"id": tag, "state": "finished", "media": "take.mp4"}))
            os.rename(tmp, studio.layout.takes / tag)
            print(f"take {tag}", file=out, flush=True)
            print(f"saving {tag}", file=out, flush=True)
            d = store.save_takes([Take.from_folder(studio.layout.takes / tag)], title=f"take-{tag}")
            mine.append(d.id)
            print(f"saved {d.id} take-{tag}", file=out, flush=True)
        elif roll < 0.75:
            src = imports / f"{tag}.mp4"
            shutil.copyfile(sample, src)
            print(f"saving {tag}", file=out, flush=True)
            d = store.import_files([src], title=f"import-{tag}")
            mine.append(d.id)
            print(f"saved {d.id} import-{tag}", file=out, flush=True)
        elif roll < 0.9 and mine:
            d = store.get(rng.choice(mine))
            store.update_edit(d.id, {**d.edit, "caption": tag, "cover": {"time_us": rng.randrange(0, 40_000)}},
                              base_revision=d.revision)
        elif mine:
            victim = mine.pop(rng.randrange(len(mine)))
            store.delete([victim])
            print(f"purging {victim}", file=out, flush=True)
            store.purge(draft_ids=[victim], older_than_days=None)
            print(f"purged {victim}", file=out, flush=True)


def check_invariant(studio, saved: dict[str, str], purging: set[str], takes: set[str]) -> list[str]:  # noqa: ANN001
    """Problems found (empty when the invariant holds). ``saved``: draft id -> title the child reported."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from studio import durable
    from studio.drafts.models import DraftRow, MediaAssetRow
    from studio.drafts.recovery import library_files

    layout = studio.layout
    problems = []
    with Session(studio.engine) as s:
        assets = s.scalars(select(MediaAssetRow)).all()
        titles = dict(s.execute(select(DraftRow.id, DraftRow.title)).all())
    paths = set()
    for a in assets:
        paths.add(a.path)
        p = layout.absolute(a.path)
        if not p.is_file():
            problems.append(f"row {a.id}: media {a.path} does not exist")
            continue
        if p.stat().st_size != a.size:
            problems.append(f"row {a.id}: size {p.stat().st_size} != recorded {a.size}")
        if a.sha256 is not None and durable.sha256_file(p) != a.sha256:
            problems.append(f"row {a.id}: content hash differs from the recorded one")
        if a.missing:
            problems.append(f"row {a.id}: flagged missing")
    for rel in library_files(studio.drafts):
        if rel not in paths:
            problems.append(f"media file {rel} has no row")
    staging = studio.drafts.staging_root
    if staging.is_dir() and any(staging.iterdir()):
        problems.append(f"staging not settled: {sorted(p.name for p in staging.iterdir())}")
    for draft_id, title in saved.items():
        if draft_id not in purging and titles.get(draft_id) != title:
            problems.append(f"reported save {draft_id} ({title}) is missing")
    live_titles = set(titles.values())
    for tag in takes:
        take_dir = layout.takes / tag
        if f"take-{tag}" not in live_titles and not (take_dir / "take.mp4").is_file():
            # A take whose draft was purged afterwards is legitimately gone.
            if not any(t == f"take-{tag}" for d, t in saved.items() if d in purging):
                problems.append(f"take {tag} is neither saved nor offered back")
        if f"take-{tag}" in live_titles and take_dir.exists():
            problems.append(f"take {tag} was saved but its folder is still in cache/takes")
    return problems


def run_rounds(rounds: int, data_dir: Path, sample: Path, *, seed: int = 1, max_wait: float = 0.8,
               log=None) -> dict:  # noqa: ANN001
    """Kill the child ``rounds`` times; after each kill, recover and check. Returns a summary.

    A third of the rounds aim at a save (kill 0-15 ms after "saving"), a sixth at a purge (0-3 ms after
    "purging"); the rest kill at a random moment. ``kills_in_save``/``kills_in_purge`` count the kills
    whose last started operation had not reported its end."""
    from studio.app import build

    rng = random.Random(seed)
    saved: dict[str, str] = {}
    purging: set[str] = set()
    takes: set[str] = set()
    failures: list[str] = []
    recover_s: list[float] = []
    settled: dict[str, int] = {}
    inside = {"save": 0, "purge": 0}
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    # Create and migrate the database first: a kill during the very first migration is a separate
    # (database-layer) problem, reported to the lead, not part of invariant 1.
    first = build(data_dir)
    first.drafts  # noqa: B018
    first.close()
    for i in range(rounds):
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(data_dir), str(sample),
                                 str(seed * 100_000 + i)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env=env)
        reader = _Reader(proc)
        try:
            aim = rng.random()
            if aim < 0.1:
                time.sleep(rng.uniform(0.0, 0.6))  # sometimes while the child is still recovering
            elif aim < 0.43:
                reader.wait_for("saving ", timeout=30)
                time.sleep(rng.uniform(0.0, 0.015))
            elif aim < 0.6:
                reader.wait_for("purging ", timeout=30)
                time.sleep(rng.uniform(0.0, 0.003))
            else:
                reader.wait_for("ready", timeout=30)
                time.sleep(rng.uniform(0.0, max_wait))
        finally:
            proc.send_signal(signal.SIGKILL)
            out = reader.rest()
        lines = out.splitlines()
        started = next((ln.split()[0] for ln in reversed(lines)
                        if ln.split() and ln.split()[0] in ("saving", "saved", "purging", "purged")), None)
        if started == "saving":
            inside["save"] += 1
        elif started == "purging":
            inside["purge"] += 1
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "saved":
                saved[parts[1]] = parts[2]
            elif len(parts) == 2 and parts[0] == "purging":
                purging.add(parts[1])
            elif len(parts) == 2 and parts[0] == "take":
                takes.add(parts[1])
        t0 = time.perf_counter()
        studio = build(data_dir)
        try:
            report = studio.drafts.last_recovery or {}  # opening the store runs recovery
            recover_s.append(time.perf_counter() - t0)
            for entry in report.get("staging", []):
                settled[entry.get("action", "?")] = settled.get(entry.get("action", "?"), 0) + 1
            problems = check_invariant(studio, saved, purging, takes)
        finally:
            studio.close()
        if problems:
            failures.append(f"round {i}: " + "; ".join(problems))
            if log:
                log(failures[-1])
    return {"rounds": rounds, "saves_reported": len(saved), "takes": len(takes), "failures": failures, "settled": settled,
            "kills_in_save": inside["save"], "kills_in_purge": inside["purge"],
            "recover_max_s": max(recover_s) if recover_s else 0.0}


class _Reader:
    """The child's stdout, read as it comes (the child flushes each line)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.buf = b""
        self._fd = proc.stdout.fileno()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._fd, selectors.EVENT_READ)

    def wait_for(self, marker: str, timeout: float) -> bool:
        """Read until a line starting with ``marker`` arrives after this call (False on timeout or exit)."""
        start = len(self.buf)
        needle = b"\n" + marker.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (b"\n" + self.buf).find(needle, start) != -1:  # a new line starting with marker
                return True
            if not self._sel.select(timeout=0.05):
                if self.proc.poll() is not None:
                    return False
                continue
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return False
            self.buf += chunk
        return False

    def rest(self) -> str:
        """Everything the child wrote (call after it was killed)."""
        self.proc.wait(timeout=30)
        while chunk := os.read(self._fd, 65536):
            self.buf += chunk
        self._sel.close()
        self.proc.stdout.close()
        return self.buf.decode(errors="replace")


if __name__ == "__main__":
    child_main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
