"""`studio render ID [-o OUT.mp4]`: export a draft headless, progress on stderr, Ctrl+C cancels.

Without -o the file lands where the app's Export puts it: the Videos folder (or the one chosen in
Settings, or $STUDIO_EXPORT_DIR), named after the draft's title."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from studio.cli import UserError, add_json_flag, exit_now
from studio.cli.drafts import load_draft


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("render", help="export a draft to an MP4 (1080x1920 H.264 + AAC, ready to upload)")
    p.add_argument("id", help="draft id (or its first 6+ characters)")
    p.add_argument("-o", "--output", metavar="OUT.mp4", default=None,
                   help="where to write (default: the Videos folder or the export folder chosen in Settings, "
                        "as TITLE.mp4; $STUDIO_EXPORT_DIR overrides)")
    add_json_flag(p)
    p.set_defaults(handler=run)


class _Progress:
    """A one-line progress display on stderr (a line per 10 % when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_step = -1

    def __call__(self, fraction: float, eta: float | None) -> None:
        pct = int(fraction * 100)
        eta_text = f", about {eta:.0f} s left" if eta is not None and fraction < 1 else ""
        if self.tty:
            print(f"\rRendering {pct:3d}%{eta_text}   ", end="", file=sys.stderr, flush=True)
        elif pct // 10 != self.last_step:
            self.last_step = pct // 10
            print(f"Rendering {pct}%{eta_text}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def run(ctx) -> int:  # noqa: ANN001 - studio.cli.Context
    # Qt and the render graph: only for this command (every command imports this module for its parser)
    from studio.editor.export import ExportCancelled, ExportError, export_draft, export_for_creator
    from studio.editor.overlays import ensure_gui

    draft = load_draft(ctx, ctx.args.id)
    ensure_gui()   # text overlays are drawn with Qt, which must start on the main thread
    cancel = threading.Event()
    progress = _Progress()
    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            if ctx.args.output:
                outcome["path"] = export_draft(ctx.studio, draft.id, ctx.args.output, on_progress=progress,
                                               cancel=cancel)
            else:
                outcome["path"] = export_for_creator(ctx.studio, draft.id, on_progress=progress, cancel=cancel)
        except BaseException as e:  # noqa: BLE001 - handed back to the main thread
            outcome["error"] = e
        finally:
            done.set()

    import signal

    # SIGTERM cancels like Ctrl+C does: ffmpeg (in its own session) is stopped and the partial file removed.
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    worker = threading.Thread(target=work, name="render")
    worker.start()
    try:
        # Wait on an Event, not Thread.join: a Ctrl+C that interrupts join() can leave the thread
        # looking finished on Python < 3.13, and we must wait for the cleanup.
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        cancel.set()
        done.wait()
        worker.join()
        outcome["error"] = ExportCancelled()
    progress.done()
    err = outcome.get("error")
    if isinstance(err, ExportCancelled):
        print("Render cancelled; no file was written.", file=sys.stderr)
        exit_now(ctx, 130)   # within 2 s of Ctrl+C / SIGTERM: no slow interpreter clean-up
    if isinstance(err, ExportError):
        raise UserError(str(err), 1) from err
    if err is not None:
        raise err
    path = Path(outcome["path"])
    size = path.stat().st_size
    ctx.emit({"ok": True, "id": draft.id, "revision": draft.revision, "path": str(path), "size": size},
             f"Wrote {path} ({size / 1e6:.1f} MB)")
    return 0
