"""`studio record --source synthetic|camera:N|file:PATH --seconds N [--title T] [--size WxH] [--fps N] [--json]`.

Records one take headless (no window) and saves it as a new draft. Ctrl+C (or SIGTERM) stops
early and still saves what was recorded. If the app is killed, the take stays in cache/takes and
`studio drafts recover` offers it back.
"""

from __future__ import annotations

from studio.cli import Context, UserError, add_json_flag


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("record", help="record a take headless (camera, video file or test pattern) into a new draft")
    p.add_argument("--source", default="synthetic", metavar="SOURCE",
                   help="synthetic (test pattern and tone), camera:N (webcam N), or file:PATH "
                        "(a video played at its own frame rate as a stand-in camera); default synthetic")
    p.add_argument("--seconds", type=float, default=None, metavar="N",
                   help="length of the take (default: until Ctrl+C or the end of a file; at most 180)")
    p.add_argument("--title", default=None, help="title of the new draft")
    p.add_argument("--size", default=None, metavar="WxH", help="picture size, e.g. 1280x720 (camera/synthetic)")
    p.add_argument("--fps", type=float, default=None, metavar="N", help="frame rate of the take")
    p.add_argument("--no-sound", action="store_true", help="record without sound")
    p.add_argument("--keep-take", action="store_true",
                   help="do not save a draft; leave the finished take in cache/takes (prints its path)")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    import signal
    import sys
    import threading

    from studio.capture.recorder import MAX_TAKE_SECONDS, STOP_MESSAGES, CaptureSession
    from studio.capture.sources import CaptureError, make_source, parse_size

    args = ctx.args
    if args.seconds is not None and not 0 < args.seconds <= MAX_TAKE_SECONDS:
        raise UserError(f"--seconds must be between 0 and {MAX_TAKE_SECONDS}.")
    if args.fps is not None and not 1 <= args.fps <= 120:
        raise UserError("--fps must be between 1 and 120.")
    _ensure_qt_core()
    studio = ctx.studio
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        source = make_source(args.source, size=parse_size(args.size), fps=args.fps)
        session = CaptureSession(studio.layout, source, audio=None if args.no_sound else "auto", fps=args.fps)
        session.open()
    except CaptureError as e:
        signal.signal(signal.SIGTERM, previous)
        raise UserError(str(e), 1) from None
    try:
        writer = session.start_take(max_seconds=args.seconds)
        length = f"{args.seconds:g} s" if args.seconds else "until Ctrl+C"
        print(f"Recording {length} from {source.name} ({source.size[0]}x{source.size[1]} at {session.fps:g} fps). "
              f"{session.audio_note} Take {writer.id}", file=sys.stderr, flush=True)
        try:
            while not writer.done.is_set() and not stop.is_set():
                writer.done.wait(0.1)
        except KeyboardInterrupt:
            pass
        take = session.stop_take()
    except CaptureError as e:
        raise UserError(str(e), 1) from None
    finally:
        session.close()
        signal.signal(signal.SIGTERM, previous)

    result = {"ok": True, "take": take.to_dict(), "duration_us": take.duration_us, "has_audio": take.has_audio,
              "stop_reason": take.stop_reason, "message": STOP_MESSAGES.get(take.stop_reason, ""),
              "sound": session.audio_note}
    if args.keep_take:
        ctx.emit(result, f"Recorded {take.duration_us / 1e6:.2f} s; the take is kept at {take.media}")
        return 0
    draft_id = _save(studio, take, args.title)
    result["draft_id"] = draft_id
    ctx.emit(result, f"Saved draft {draft_id} ({take.duration_us / 1e6:.2f} s"
                     f"{', with sound' if take.has_audio else ', no sound'}). {result['message']}".rstrip())
    return 0


def _save(studio, take, title: str | None) -> str:  # noqa: ANN001
    drafts = getattr(studio, "drafts", None)
    if drafts is None:
        raise UserError(f"The take was recorded and kept at {take.media}, but it cannot be saved as a draft yet: "
                        "the draft store is not available in this build. `studio drafts recover` offers it later.", 1)
    try:
        return drafts.save_new_draft([take.media], title=title, move=True).id
    except Exception as e:  # noqa: BLE001 - the take is never lost; say where it is
        reason = getattr(e, "user_message", None) or str(e)
        raise UserError(f"The take could not be saved as a draft ({reason}). It is kept at {take.media}; "
                        "`studio drafts recover` offers it again.", 1) from e


def _ensure_qt_core() -> None:
    """Qt Multimedia (the microphone) and the capture QThread want an application object; no window needed."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        _ensure_qt_core.app = QCoreApplication([])
