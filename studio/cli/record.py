"""`studio record --source synthetic|camera:N|file:PATH --seconds N [--title T] [--size WxH] [--fps N] [--json]`.

Records one take headless (no window) and saves it as a new draft, through the same
RecordingSession the Record page drives (studio.capture.session), under a QCoreApplication.
Ctrl+C (or SIGTERM) stops the take at once and still saves what was recorded. If the process is
killed, the take stays in cache/takes and `studio drafts recover` offers it back.
"""

from __future__ import annotations

import logging

from studio.cli import Context, UserError, add_json_flag

log = logging.getLogger(__name__)


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
    from studio.capture.devices import ensure_qt_core
    from studio.capture.recorder import MAX_TAKE_SECONDS
    from studio.capture.sources import CaptureError, parse_size

    args = ctx.args
    if args.seconds is not None and not 0 < args.seconds <= MAX_TAKE_SECONDS:
        raise UserError(f"--seconds must be between 0 and {MAX_TAKE_SECONDS}.")
    if args.fps is not None and not 1 <= args.fps <= 120:
        raise UserError("--fps must be between 1 and 120.")
    try:
        size = parse_size(args.size)
    except CaptureError as e:
        raise UserError(str(e)) from None
    ensure_qt_core()   # Qt Multimedia (the microphone) and the capture QThread want an application object
    return _record(ctx, size, args.seconds or MAX_TAKE_SECONDS)


def _record(ctx: Context, size, max_seconds: float) -> int:  # noqa: ANN001, C901
    """Drive a RecordingSession (the one the Record page drives) in line, under a QCoreApplication."""
    import signal
    import sys
    import threading

    from PySide6.QtCore import QEventLoop, QTimer

    from studio.capture.recorder import STOP_MESSAGES
    from studio.capture.session import RecordingSession, State
    from studio.tasks import SynchronousPool, user_message

    args = ctx.args
    studio = ctx.studio
    if not args.keep_take:
        # Opening the draft store (migrations, recovery) takes seconds; do it while the source opens and
        # records, so a Ctrl+C is answered by a saved draft at once. (Recovery skips a take being recorded.)
        threading.Thread(target=_open_store, args=(studio,), name="open-drafts", daemon=True).start()
    session = RecordingSession(studio, pool=SynchronousPool())
    session.countdown_seconds = 0
    session.max_seconds = max_seconds
    failures: list[BaseException] = []
    session.error.connect(failures.append)
    interrupted: list[int] = []
    handlers = {sig: signal.signal(sig, lambda signum, _frame: interrupted.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        session.open(args.source, size=size, fps=args.fps, audio=None if args.no_sound else "auto")
        if failures:
            raise UserError(user_message(failures[0]), 1)
        session.start()
        if failures:
            raise UserError(user_message(failures[0]), 1)
        capture = session.capture
        source = capture.source
        length = f"{args.seconds:g} s" if args.seconds else "until Ctrl+C"
        print(f"Recording {length} from {source.name} ({source.size[0]}x{source.size[1]} at {capture.fps:g} fps). "
              f"{capture.audio_note} Take {capture.writer.id}", file=sys.stderr, flush=True)

        loop = QEventLoop()

        def check() -> None:
            # Python runs signal handlers between bytecodes; this timer gives it some every 50 ms.
            if interrupted and session.state is State.RECORDING:
                session.stop()
            if session.state is not State.RECORDING:
                loop.quit()

        watch = QTimer(interval=50, timeout=check)
        watch.start()
        loop.exec()
        watch.stop()
        session.stop()   # the loop may have ended on a signal before the poll saw it
        if failures or not session.takes:
            raise UserError(user_message(failures[0]) if failures else "Nothing was recorded.", 1)
        (take,) = session.takes
        if interrupted and take.stop_reason == "encoder_failed":
            # Ctrl+C in a terminal reaches ffmpeg too; it closes the file cleanly, which is what we asked for.
            take.stop_reason = "user"
        result = {"ok": True, "take": take.to_dict(), "duration_us": take.duration_us, "has_audio": take.has_audio,
                  "stop_reason": take.stop_reason, "message": STOP_MESSAGES.get(take.stop_reason, ""),
                  "sound": capture.audio_note}
        if args.keep_take:
            session.keep_takes()
            ctx.emit(result, f"Recorded {take.duration_us / 1e6:.2f} s; the take is kept at {take.media}")
            return 0
        saved: list = []
        session.saved.connect(lambda draft, _then: saved.append(draft))
        failures.clear()
        session.save(title=args.title)
        if not saved:
            reason = user_message(failures[0]) if failures else "the draft store refused it"
            raise UserError(f"The take could not be saved as a draft ({reason}). It is kept at {take.media}; "
                            "`studio drafts recover` offers it again.", 1)
        result["draft_id"] = saved[0].id
        ctx.emit(result, f"Saved draft {saved[0].id} ({take.duration_us / 1e6:.2f} s"
                         f"{', with sound' if take.has_audio else ', no sound'}). {result['message']}".rstrip())
        return 0
    finally:
        session.shutdown()   # the camera is released; unsaved takes stay in cache/takes for recovery
        for sig, previous in handlers.items():
            signal.signal(sig, previous)


def _open_store(studio) -> None:  # noqa: ANN001
    try:
        studio.drafts
    except Exception as e:  # noqa: BLE001 - saving will say it again, in a sentence
        log.info("draft store not ready: %s", e)
