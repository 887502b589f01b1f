"""Cold start to main window shown: from source and from the packaged app (median of 5).

Measured from spawning the process to the moment the app reports its main window shown
(STUDIO_STARTUP_PROBE prints a marker from the first event-loop turn after show()).
Each run is a new process on a fresh profile, on the offscreen platform.
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
TARGET_S = 1.5


def time_to_window(cmd: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="studio-start-") as tmp:
        env = {**os.environ, "STUDIO_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen",
               "QT_LOGGING_RULES": "qt.multimedia*=false"}
        t0 = time.perf_counter()
        proc = subprocess.Popen([*cmd, "--data-dir", tmp, "--quit-after", "0.2"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, text=True, cwd=tmp)
        elapsed = None
        for line in proc.stdout:
            if line.strip() == "studio:window-shown":
                elapsed = time.perf_counter() - t0
                break
        proc.wait(timeout=60)
        if elapsed is None:
            raise RuntimeError(f"{cmd} never showed its window (exit {proc.returncode})")
        return elapsed


def median_of(cmd: list[str], n: int) -> tuple[float, list[float]]:
    runs = [time_to_window(cmd) for _ in range(n)]
    return statistics.median(runs), runs


def run(full: bool) -> list[dict]:
    n = 5 if full else 2
    rows = []
    med, runs = median_of([sys.executable, "-m", "studio"], n)
    rows.append({"name": "cold start to window (source)", "value": med, "unit": "s",
                 "target": f"≤ {TARGET_S} s median", "ok": med <= TARGET_S,
                 "note": "runs: " + ", ".join(f"{r:.2f}" for r in runs)})
    if PACKAGED.is_file():
        med, runs = median_of([str(PACKAGED)], n)
        rows.append({"name": "cold start to window (packaged)", "value": med, "unit": "s",
                     "target": "report", "ok": None, "note": "runs: " + ", ".join(f"{r:.2f}" for r in runs)})
    else:
        rows.append({"name": "cold start to window (packaged)", "value": float("nan"), "unit": "s",
                     "target": "report", "ok": None, "note": "dist/studio not built: run `make package` first"})
    return rows
