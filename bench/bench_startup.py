"""Warm start to a painted main window, against a bare PySide6 QMainWindow measured in the same run.

Each round starts, in alternation, a bare QMainWindow (bench/bare_window.py, the same interpreter)
and the app (`python -m studio`) on one warm profile (a database, saved geometry and a last page
already there: a priming run made them). Both print a marker from their window's first paint
(STUDIO_STARTUP_PROBE for the app: the first paint with the real first page on screen, never the
placeholder a page shows while its module loads); the clock runs from spawning the process to
that marker. Bytecode is cached as in an installed app (a shell with PYTHONDONTWRITEBYTECODE
would make every start compile the app's modules again, a cost the bare window never pays).
The exit of the idle app is timed from the start of its main window's close (marker
``studio:closing``, printed by the app) to the end of its process.

Targets (issue 13): app ≤ 1.5 × bare window (median ratio of the rounds); idle exit ≤ 0.5 s.

    .venv/bin/python bench/bench_startup.py [--quick]   # prints the rows, exits 1 on a MISSED target
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "dist" / "studio" / "studio"
BARE = Path(__file__).resolve().parent / "bare_window.py"
RATIO_TARGET = 1.5
EXIT_TARGET_S = 0.5
IDLE_S = 6.0        # the app runs this long before its window closes: page loaded, database open, idle


def _env() -> dict:
    env = {**os.environ, "STUDIO_STARTUP_PROBE": "1", "QT_LOGGING_RULES": "qt.multimedia*=false"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # the priming run compiles; the timed ones start warm
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def timed_run(cmd: list[str], cwd: str) -> tuple[float, float | None]:
    """(seconds to the first paint, seconds from the close's start to the process's end or None)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=_env(), text=True, cwd=cwd)
    shown = closing = None
    try:
        for line in proc.stdout:
            mark = line.strip()
            if mark == "studio:window-shown" and shown is None:
                shown = time.perf_counter() - t0
            elif mark == "studio:closing" and closing is None:
                closing = time.perf_counter()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    end = time.perf_counter()
    if shown is None or proc.returncode != 0:
        raise RuntimeError(f"{cmd} showed no window or failed (exit {proc.returncode})")
    return shown, (end - closing) if closing is not None else None


def run(full: bool) -> list[dict]:
    rounds = 7 if full else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="studio-start-") as tmp:
        profile = str(Path(tmp) / "profile")
        app = [sys.executable, "-m", "studio", "--data-dir", profile, "--quit-after", str(IDLE_S)]
        bare = [sys.executable, str(BARE), "--quit-after", "0.3"]
        timed_run(app, tmp)          # priming: the warm profile (database migrated, geometry, last page)
        timed_run(bare, tmp)         # and the bare window's libraries in the page cache too
        bare_s, app_s, ratios, exits = [], [], [], []
        for _ in range(rounds):      # alternating, so a noisy neighbour hits both alike
            b, _x = timed_run(bare, tmp)
            a, x = timed_run(app, tmp)
            bare_s.append(b)
            app_s.append(a)
            ratios.append(a / b)
            exits.append(x)
        ratio = statistics.median(ratios)
        rows.append({"name": "warm start to window / bare QMainWindow", "value": ratio, "unit": "×",
                     "target": f"≤ {RATIO_TARGET}× (median)", "ok": ratio <= RATIO_TARGET,
                     "note": f"app median {statistics.median(app_s):.3f} s, bare {statistics.median(bare_s):.3f} s; "
                             f"{rounds} alternating rounds; ratios " + ", ".join(f"{r:.2f}" for r in ratios)})
        rows.append({"name": "warm start to window (source)", "value": statistics.median(app_s), "unit": "s",
                     "target": "report", "ok": None, "note": "runs: " + ", ".join(f"{r:.2f}" for r in app_s)})
        measured = [x for x in exits if x is not None]
        worst = max(measured) if measured else float("nan")
        rows.append({"name": "idle app exit (close to process end)", "value": statistics.median(measured)
                     if measured else float("nan"), "unit": "s", "target": f"≤ {EXIT_TARGET_S} s (every run)",
                     "ok": bool(measured) and len(measured) == len(exits) and worst <= EXIT_TARGET_S,
                     "note": "runs: " + ", ".join("none" if x is None else f"{x:.3f}" for x in exits)})
        if PACKAGED.is_file():
            pk = [PACKAGED.as_posix(), "--data-dir", str(Path(tmp) / "packaged"), "--quit-after", "1"]
            timed_run(pk, tmp)
            runs, pratios = [], []
            for _ in range(max(2, rounds // 2)):
                b, _x = timed_run(bare, tmp)
                a, _x = timed_run(pk, tmp)
                runs.append(a)
                pratios.append(a / b)
            rows.append({"name": "warm start to window (packaged) / bare", "value": statistics.median(pratios),
                         "unit": "×", "target": "report", "ok": None,
                         "note": "runs: " + ", ".join(f"{r:.2f} s" for r in runs)})
        else:
            rows.append({"name": "warm start to window (packaged) / bare", "value": float("nan"), "unit": "×",
                         "target": "report", "ok": None, "note": "dist/studio not built: run `make package` first"})
    return rows


if __name__ == "__main__":
    missed = False
    for row in run(full="--quick" not in sys.argv):
        verdict = {True: "ok", False: "MISSED", None: "-"}[row["ok"]]
        missed |= row["ok"] is False
        print(f"{row['name']}: {row['value']:.3f} {row['unit']}  (target {row['target']})  {verdict}  {row['note']}")
    sys.exit(1 if missed else 0)
