"""`make screenshots`: run the real app under Xvfb and save one PNG per page.

    .venv/bin/python tools/screenshots.py docs/screenshots

Starts its own Xvfb (a real X server, so the PNGs are what a creator would see), seeds a
throw-away profile with a few drafts made from ../shared/media when the draft store exists,
then opens the app once per page and grabs the window from the screen. Then
tools/screenshot_states.py drives the window into states a plain start cannot show (an export
done, captions with the safe-zone guide, a live post, a copied link, Settings → Destinations).
"""

from __future__ import annotations

import json
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


def seed(profile: Path, env: dict) -> str | None:
    """Give the pages something real to show: drafts imported from the shared media, one of them
    edited (a text and a sticker). Returns the edited draft's id, opened on the Editor shot."""
    if not SHARED.is_dir():
        return None
    ids = []
    for name in ("white.mp4", "video_rotation_90.mp4", "realshort.mp4", "cockatoo.mp4"):
        r = studio("--data-dir", str(profile), "drafts", "import", str(SHARED / name), "--json", env=env)
        if r.returncode != 0:
            print(f"seeding {name} failed: {r.stderr.strip()}", file=sys.stderr)
            continue
        ids.append(json.loads(r.stdout)["id"])
    if not ids:
        return None
    draft = ids[-1]
    edit = json.loads(studio("--data-dir", str(profile), "drafts", "export-edit", draft, env=env).stdout)
    end = edit["clips"][0]["source_out_us"]
    edit["texts"] = [{"id": "shot-text", "text": "Morning with Coco", "size": 0.05, "color": "#FFFFFF",
                      "background": "#FF5F6DCC", "x": 0.5, "y": 0.2, "start_us": 0, "end_us": end}]
    edit["stickers"] = [{"id": "shot-sticker", "source": "builtin:heart", "x": 0.78, "y": 0.8,
                         "scale": 0.25, "start_us": 0, "end_us": end}]
    edit["clips"][0]["look"] = {"name": "vivid"}
    # word-timed captions, as Auto captions would leave them (the Captions shot shows them and their panel)
    words = [("Good", 0.2), ("morning", 0.6), ("Coco!", 1.1), ("Say", 1.9), ("hello", 2.3), ("to", 2.8),
             ("everyone", 3.2)]
    edit.setdefault("captions", {})["segments"] = [
        {"id": f"shot-line-{n}", "words": [{"text": w, "start_us": int(t * 1e6), "end_us": int((t + 0.35) * 1e6)}
                                            for w, t in line]}
        for n, line in enumerate((words[:3], words[3:]))]
    edit["captions"]["engine"] = "builtin"
    edit_file = profile / "shot-edit.json"
    edit_file.write_text(json.dumps(edit))
    r = studio("--data-dir", str(profile), "drafts", "import-edit", draft, str(edit_file), env=env)
    if r.returncode != 0:
        print(f"editing the demo draft failed: {r.stderr.strip()}", file=sys.stderr)
    # The Uploads page: one reel uploaded to "This computer" (export + multipart upload), one queued.
    for upload_id in (ids[2], draft):
        r = studio("--data-dir", str(profile), "uploads", "enqueue", upload_id, "--target", "local", env=env)
        if r.returncode != 0:
            print(f"enqueueing a demo upload failed: {r.stderr.strip()}", file=sys.stderr)
        if upload_id == ids[2]:
            studio("--data-dir", str(profile), "uploads", "run", "--until-idle", env=env, timeout=300)
    # A post: the second draft published to "This computer" (the ladder, poster, share page; live)
    r = studio("--data-dir", str(profile), "publish", ids[1], "--target", "local", env=env, timeout=600)
    if r.returncode != 0:
        print(f"publishing a demo post failed: {r.stderr.strip()}", file=sys.stderr)
    studio("--data-dir", str(profile), "uploads", "run", "--until-idle", env=env, timeout=300)   # the post goes live
    studio("--data-dir", str(profile), "local-s3", "stop", env=env)
    # Settings → Destinations: a cloud bucket next to "This computer" (AWS chain: no secret to type here)
    studio("--data-dir", str(profile), "targets", "add", "team-aws", "--bucket", "our-reels",
           "--region", "eu-west-1", "--credentials", "aws", env=env)
    return draft


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory(prefix="studio-shots-") as tmp:
            profile = Path(tmp) / "profile"
            env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
                   "QT_LOGGING_RULES": "qt.multimedia*=false", "PYTHONPATH": str(ROOT)}
            draft = seed(profile, env)
            for page in PAGES:
                png = out / f"{page}.png"
                where = ["--open", draft] if page == "editor" and draft else ["--page", page]
                r = studio("--data-dir", str(profile), *where, "--quit-after", "6",
                           env={**env, "STUDIO_SCREENSHOT": str(png)})
                if r.returncode != 0 or not png.exists():
                    print(f"{page}: failed\n{r.stderr}", file=sys.stderr)
                    return 1
                print(f"wrote {png}")
            if draft:
                r = subprocess.run([sys.executable, str(ROOT / "tools" / "screenshot_states.py"), str(profile),
                                    str(out), draft], env=env, timeout=900, stdin=subprocess.DEVNULL)
                if r.returncode != 0:
                    print("the states screenshots failed", file=sys.stderr)
                    return 1
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
