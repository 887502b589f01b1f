"""Drives the real main window for minutes, the way a creator leaves it running (tests/test_soak.py).

Run as its own process under Xvfb: ``python tests/soak_driver.py --data-dir D --record S --editor S``.
Phase 1 keeps the Record page open with its live preview (the test pattern, as on a machine with
no camera) and records a take part-way through. Phase 2 opens a draft with music in the editor
(waveform, thumbnails), plays it over and over, and exports it once. Every 2 s it prints one JSON
line: phase, seconds, RSS, None's reference count. It exits 0 when both phases ran to the end;
a crash is the process dying, which the test sees.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed(studio, work: Path) -> str:  # noqa: ANN001 - Studio
    """A 20 s 720x1280 clip with sound and a 60 s song: a draft like a creator's."""
    from studio.editor import document as doc
    from studio.media import ffmpeg

    video, song = work / "clip.mp4", work / "song.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=30:duration=20",
                "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=20",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-shortest", str(video)], timeout=300)
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i",
                "aevalsrc='0.3*sin(2*PI*220*t)*(1+sin(2*PI*0.5*t))':s=48000:d=60", "-c:a", "aac", str(song)],
               timeout=300)
    draft = studio.drafts.import_files([video], title="Soak reel")
    music = studio.drafts.add_asset(draft.id, song, kind="audio")
    edit = doc.Edit.from_dict(studio.drafts.get(draft.id).edit)
    edit, _ = doc.add_music(edit, music.id, 0)
    edit, _ = doc.add_text(edit, "Soak test", 0, 10_000_000)
    studio.drafts.update_edit(draft.id, edit.to_dict())
    return draft.id


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--record", type=float, default=240)
    ap.add_argument("--editor", type=float, default=120)
    args = ap.parse_args()

    from studio import logs
    from studio.app import build
    from studio.lastrun import LastRun

    studio = build(args.data_dir)
    logs.setup_logging(studio.layout.logs)
    logs.install_excepthooks()
    lastrun = LastRun(studio.layout.logs)
    lastrun.begin()
    errors: list[str] = []
    logs.on_unhandled(lambda summary, _tb: errors.append(summary))
    draft_id = seed(studio, Path(args.data_dir))

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    theme.apply(app)
    window = MainWindow(studio)
    window.resize(1280, 820)
    window.show_page("record")
    window.show()
    t0 = time.monotonic()
    state = {"phase": "record", "phase_t0": t0, "exported": None, "recorded": False}
    export_to = Path(args.data_dir) / "soak-export.mp4"

    def sample() -> None:
        now = time.monotonic()
        print(json.dumps({"phase": state["phase"], "t": round(now - state["phase_t0"], 1),
                          "rss_mib": round(rss_mib(), 1), "none_refs": sys.getrefcount(None),
                          "errors": len(errors)}), flush=True)

    def press(key) -> None:  # noqa: ANN001 - Qt.Key
        page = window.stack.currentWidget()
        QTest.keyClick(page, key)

    def record_step() -> None:
        elapsed = time.monotonic() - state["phase_t0"]
        if not state["recorded"] and elapsed > args.record * 0.3:
            state["recorded"] = True
            press(Qt.Key_R)                              # start (after the countdown)
            QTimer.singleShot(8000, lambda: press(Qt.Key_R))  # stop a take of ~5 s
        if elapsed >= args.record:
            state.update(phase="editor", phase_t0=time.monotonic())
            window.show_page("editor", draft_id)

    def editor_step() -> None:
        elapsed = time.monotonic() - state["phase_t0"]
        page = window.stack.currentWidget()
        if getattr(page, "session", None) is None:
            return  # the draft is still opening
        if state["exported"] is None and elapsed > args.editor * 0.4:
            state["exported"] = "started"
            page.export(export_to)
        playing = bool(page.rate) or (page.worker is not None and page.worker.playing)
        if not playing:
            page.seek(0)
            page.play()
        job = getattr(page, "export_job", None)
        exported = export_to.exists() and export_to.stat().st_size > 0 and not (job and job.is_running())
        # the phase lasts its time, and at least until the export finished (a slow machine renders slowly)
        if elapsed >= args.editor and (exported or elapsed >= args.editor + 300):
            done = exported
            print(json.dumps({"done": True, "exported": done, "errors": errors}), flush=True)
            window.close()
            app.quit()

    def tick() -> None:
        (record_step if state["phase"] == "record" else editor_step)()

    sampler = QTimer(interval=2000, timeout=sample)
    sampler.start()
    stepper = QTimer(interval=500, timeout=tick)
    stepper.start()
    code = app.exec()
    from studio.tasks import wait_for_background

    wait_for_background()
    studio.close()
    lastrun.end()
    return code


if __name__ == "__main__":
    sys.exit(main())
