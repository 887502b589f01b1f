"""`make screenshots`: run the real app under Xvfb and save one PNG per page.

    .venv/bin/python tools/screenshots.py docs/screenshots

Starts its own Xvfb (a real X server, so the PNGs are what a creator would see), seeds a
throw-away profile with a few drafts made from ../shared/media when the draft store exists,
then opens the app once per page and grabs the window from the screen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["record", "drafts", "editor", "uploads"]
SHARED = ROOT.parent / "shared" / "media"


def start_xvfb() -> tuple[subprocess.Popen, str]:
    if not shutil.which("Xvfb"):
        sys.exit("Xvfb is missing: run `make system-deps` as root, or `sudo apt-get install -y xvfb`.")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    if not display:
        proc.kill()
        sys.exit("Xvfb did not start")
    return proc, f":{display}"


def studio(*args: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], env=env, timeout=timeout,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def seed(profile: Path, env: dict) -> None:
    """Give the pages something real to show: drafts imported from the shared media."""
    if not (ROOT / "studio" / "cli" / "drafts.py").exists() or not SHARED.is_dir():
        return
    for name in ("cockatoo.mp4", "realshort.mp4", "white.mp4", "video_rotation_90.mp4"):
        r = studio("--data-dir", str(profile), "drafts", "import", str(SHARED / name), env=env)
        if r.returncode != 0:
            print(f"seeding {name} failed: {r.stderr.strip()}", file=sys.stderr)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory(prefix="studio-shots-") as tmp:
            profile = Path(tmp) / "profile"
            env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
                   "QT_LOGGING_RULES": "qt.multimedia*=false", "PYTHONPATH": str(ROOT)}
            seed(profile, env)
            for page in PAGES:
                png = out / f"{page}.png"
                r = studio("--data-dir", str(profile), "--page", page, "--quit-after", "4",
                           env={**env, "STUDIO_SCREENSHOT": str(png)})
                if r.returncode != 0 or not png.exists():
                    print(f"{page}: failed\n{r.stderr}", file=sys.stderr)
                    return 1
                print(f"wrote {png}")
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
