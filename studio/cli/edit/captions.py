"""`studio edit ID captions|cut-silences`: speech edit operations, each saved as a new revision.

    studio edit ID captions [--engine auto|builtin|whisper] [--json]   transcribe, store, print the words
    studio edit ID captions --srt FILE | --vtt FILE                     write subtitles (transcribing first
                                                                       when the reel has no captions yet)
    studio edit ID cut-silences [--min-silence S] [--padding S] [--threshold DB] [--dry-run] [--json]
                                                                       cut the silences, print the removed ranges

Progress goes to stderr; Ctrl+C stops (nothing is saved).
"""

from __future__ import annotations

import sys

from studio.cli import UserError, add_json_flag, number_of

US = 1_000_000


seconds = number_of("seconds", 3600, "0.7")


def add_actions(acts) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """The speech actions of `studio edit`: captions, cut-silences."""
    c = acts.add_parser("captions", help="transcribe the reel into word-timed captions (a new revision), "
                                         "or write them as SRT/WebVTT")
    c.add_argument("--engine", choices=["auto", "builtin", "whisper"], default=None,
                   help="speech engine (default auto: Whisper when its model folder is set up, else built-in); "
                        "given with --srt/--vtt, transcribes again")
    out = c.add_mutually_exclusive_group()
    out.add_argument("--srt", metavar="FILE", default=None, help="write the captions as SubRip subtitles")
    out.add_argument("--vtt", metavar="FILE", default=None, help="write the captions as WebVTT subtitles")
    add_json_flag(c)
    c.set_defaults(handler=run_captions)

    c = acts.add_parser("cut-silences", help="remove the silences (jump cuts; never through a word), "
                                             "a new revision")
    c.add_argument("--min-silence", type=seconds, default=0.7, metavar="S",
                   help="only silences at least S seconds long (default 0.7)")
    c.add_argument("--padding", type=seconds, default=0.15, metavar="S",
                   help="keep S seconds of quiet around speech (default 0.15)")
    c.add_argument("--threshold", type=float, default=None, metavar="DB",
                   help="quieter than DB dBFS counts as silence (default -38)")
    c.add_argument("--dry-run", action="store_true", help="only print what would be cut")
    add_json_flag(c)
    c.set_defaults(handler=run_cut_silences)


class _Progress:
    def __init__(self, what: str) -> None:
        self.what, self.tty, self.step = what, sys.stderr.isatty(), -1

    def __call__(self, fraction: float) -> None:
        pct = int(max(0.0, min(1.0, fraction)) * 100)
        if self.tty:
            print(f"\r{self.what} {pct:3d}%  ", end="", file=sys.stderr, flush=True)
        elif pct // 25 != self.step:
            self.step = pct // 25
            print(f"{self.what} {pct}%", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _load(ctx):  # noqa: ANN001, ANN202 - (Draft, Edit, assets)
    from studio.cli.drafts import load_draft
    from studio.editor.export import ExportError, load_edit
    from studio.editor.overlays import ensure_gui

    draft = load_draft(ctx, ctx.args.id)
    ensure_gui()   # the new revision's cover (with its captions) is drawn with Qt, started on this thread
    try:
        edit = load_edit(draft)
    except ExportError as e:
        raise UserError(str(e), 1) from e
    return draft, edit, ctx.studio.drafts.media_refs(draft)


def _save(ctx, draft, edit) -> int:  # noqa: ANN001
    from studio.drafts import DraftError

    try:
        return ctx.studio.drafts.update_edit(draft.id, edit.to_dict(), base_revision=draft.revision)
    except DraftError as e:
        raise UserError(f"{e} Nothing was saved; run the command again.", 1) from e


def run_captions(ctx) -> int:  # noqa: ANN001 - studio.cli.Context
    from studio.editor.captions import set_transcript
    from studio.editor.document import EditError
    from studio.speech import SpeechError
    from studio.speech.engines import choose_engine
    from studio.speech.subtitles import write_subtitles
    from studio.speech.transcribe import transcribe_edit

    draft, edit, assets = _load(ctx)
    target = ctx.args.srt or ctx.args.vtt
    revision = draft.revision
    engine_name = edit.captions.engine
    if target is None or ctx.args.engine is not None or not edit.captions.segments:
        if not edit.clips:
            raise UserError("This draft has no clips to transcribe; add a video first.", 1)
        try:
            engine = choose_engine(ctx.args.engine or "auto", ctx.studio.layout)
            progress = _Progress(f"Transcribing ({engine.name})")
            words = transcribe_edit(edit, assets, engine, progress=progress)
            progress.done()
            edit = set_transcript(edit, words, engine=engine.name)
        except (SpeechError, EditError) as e:
            raise UserError(str(e), 1) from e
        revision = _save(ctx, draft, edit)
        engine_name = engine.name
    words = [{"text": w.text, "start_us": w.start_us, "end_us": w.end_us} for w in edit.captions.words]
    result = {"ok": True, "id": draft.id, "revision": revision, "engine": engine_name, "words": words,
              "lines": [s.text for s in edit.captions.segments]}
    if target is not None:
        try:
            write_subtitles(edit.captions, target, "srt" if ctx.args.srt else "vtt")
        except SpeechError as e:
            raise UserError(str(e), 2) from e
        except OSError as e:
            raise UserError(f"Cannot write {target}: {e.strerror}.", 1) from e
        result["path"] = target
    human = "\n".join(f"{w['start_us'] / US:8.3f} {w['end_us'] / US:8.3f}  {w['text']}" for w in words)
    human += f"\n{len(words)} words in {len(edit.captions.segments)} lines (revision {revision}, {engine_name})"
    if target is not None:
        human += f"; wrote {target}"
    ctx.emit(result, human)
    return 0


def run_cut_silences(ctx) -> int:  # noqa: ANN001 - studio.cli.Context
    from studio.editor.document import EditError
    from studio.editor.jumpcuts import remove_ranges
    from studio.speech import SpeechError
    from studio.speech.transcribe import propose_silence_cuts
    from studio.speech.vad import DEFAULT_THRESHOLD_DB

    draft, edit, assets = _load(ctx)
    if not edit.clips:
        raise UserError("This draft has no clips; add a video first.", 1)
    try:
        proposal = propose_silence_cuts(edit, assets, min_silence_us=round(ctx.args.min_silence * US),
                                        padding_us=round(ctx.args.padding * US),
                                        threshold_db=DEFAULT_THRESHOLD_DB if ctx.args.threshold is None
                                        else ctx.args.threshold)
        after = remove_ranges(edit, proposal.cuts)
    except SpeechError as e:
        raise UserError(str(e), 2 if "must be between" in str(e) else 1) from e
    except EditError as e:
        raise UserError(str(e), 1) from e
    revision = draft.revision
    if proposal.cuts and not ctx.args.dry_run:
        revision = _save(ctx, draft, after)
    result = {"ok": True, "id": draft.id, "revision": revision, "applied": bool(proposal.cuts) and not ctx.args.dry_run,
              "duration_before_us": edit.duration_us, "duration_after_us": after.duration_us, **proposal.to_dict()}
    lines = [f"{a / US:8.3f} – {b / US:8.3f}  ({(b - a) / US:.2f} s)" for a, b in proposal.cuts]
    verb = "Would remove" if ctx.args.dry_run else "Removed"
    lines.append(f"{verb} {len(proposal.cuts)} silences, {proposal.removed_us / US:.2f} s: "
                 f"{edit.duration_us / US:.2f} s → {after.duration_us / US:.2f} s"
                 + ("" if ctx.args.dry_run or not proposal.cuts else f" (revision {revision})"))
    ctx.emit(result, "\n".join(lines))
    return 0
