"""The installable app: the PyInstaller folder's size (target <= 450 MiB) and the .deb's, built fresh
from this tree by `make package` and `make deb` (their time is not a figure: nobody waits for it but
us). The folder's five largest items are in the note; `make package` prints the whole breakdown.

    .venv/bin/python bench/run.py --only package
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

import slim  # noqa: E402 - packaging/ is not a package

FOLDER_LIMIT_MIB = 450
MiB = 2 ** 20


def _make(target: str) -> None:
    r = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                       timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"make {target} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def run(full: bool = True) -> list[dict]:  # noqa: ARG001 - one build either way
    _make("package")
    folder = ROOT / "dist" / "studio"
    for old in (ROOT / "dist").glob("*_amd64.deb"):
        old.unlink()   # `make deb` builds from the folder just made
    _make("deb")
    deb = next((ROOT / "dist").glob("*_amd64.deb"))
    internal = folder / "_internal"
    items = sorted(((slim.size(p), p.name) for p in internal.iterdir()), reverse=True)[:5]
    total = slim.size(folder) / MiB
    largest = ", ".join(f"{name} {s / MiB:.0f}" for s, name in items)
    return [
        {"name": "packaged folder (dist/studio)", "value": total, "unit": "MiB", "target": f"<= {FOLDER_LIMIT_MIB}",
         "ok": total <= FOLDER_LIMIT_MIB, "note": f"largest (MiB): {largest}"},
        {"name": ".deb (dpkg-deb, compressed)", "value": deb.stat().st_size / MiB, "unit": "MiB", "target": "report",
         "ok": None, "note": f"{deb.name}; installs the folder above under /opt"},
    ]
