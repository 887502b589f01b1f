"""`studio edit ID transition|reframe|beat-cuts`: visual edit operations, each saved as a new revision.

    studio edit ID transition --after N --kind crossfade|dip|slide|zoom|whip --duration S [--json]
    studio edit ID transition --after N --none                  # remove it
    studio edit ID reframe --follow-subject [--clip N] [--json]
    studio edit ID beat-cuts --music FILE_OR_ASSET [--json]

Every action validates the new edit before it is saved; a refusal is a sentence and changes nothing.
"""

from __future__ import annotations

import argparse
import math

from studio.cli import UserError, add_json_flag


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > 5:
        raise argparse.ArgumentTypeError(f"“{text}” is not a transition length (give 0.03 to 5 seconds)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a clip number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"“{text}” is not a clip number (clips count from 1)")
    return value


def add_actions(actions) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """The visual actions of `studio edit`: transition, reframe, beat-cuts."""
    t = actions.add_parser("transition", help="a transition between clip N and the next one")
    t.add_argument("--after", type=_positive, required=True, metavar="N", help="the clip it follows (1 = first)")
    t.add_argument("--kind", choices=["crossfade", "dip", "slide", "zoom", "whip"], default=None)
    t.add_argument("--duration", type=_seconds, default=0.5, metavar="S", help="seconds (default 0.5)")
    t.add_argument("--none", action="store_true", help="remove the transition after clip N")
    add_json_flag(t)
    t.set_defaults(handler=run_transition)

    r = actions.add_parser("reframe", help="frame a wide shot for the canvas, following the subject")
    r.add_argument("--follow-subject", action="store_true", required=True,
                   help="follow faces (or the largest moving subject) with a smooth crop")
    r.add_argument("--clip", type=_positive, default=None, metavar="N",
                   help="only clip N (default: every clip whose shape differs from the canvas)")
    add_json_flag(r)
    r.set_defaults(handler=run_reframe)

    b = actions.add_parser("beat-cuts", help="trim the clips so every cut lands on a beat of the music")
    b.add_argument("--music", required=True, metavar="FILE_OR_ASSET",
                   help="a music file (added as the music track) or the id of the draft's music asset")
    add_json_flag(b)
    b.set_defaults(handler=run_beat_cuts)


def _load(ctx):  # noqa: ANN001, ANN202 - Context -> (Draft, Edit)
    from studio.cli.drafts import load_draft
    from studio.editor.document import Edit, EditError

    draft = load_draft(ctx, ctx.args.id)
    try:
        return draft, Edit.from_dict(draft.edit)
    except EditError as e:
        raise UserError(f"This draft's edit cannot be changed: {e}", 1) from e


def _save(ctx, draft, edit) -> int:  # noqa: ANN001
    from studio.drafts import DraftError
    from studio.editor.document import EditError, validate

    try:
        validate(edit, asset_ids={a.id for a in ctx.studio.drafts.get(draft.id).assets})
        return ctx.studio.drafts.update_edit(draft.id, edit.to_dict())
    except (EditError, DraftError) as e:
        raise UserError(str(e), 1) from e


def run_transition(ctx) -> int:  # noqa: ANN001
    from studio.editor.document import US, EditError
    from studio.editor.transitions import set_transition, transition_spans

    a = ctx.args
    if not a.none and a.kind is None:
        raise UserError("Say which transition with --kind crossfade|dip|slide|zoom|whip (or --none to remove it).")
    draft, edit = _load(ctx)
    try:
        edit = set_transition(edit, a.after, None if a.none else a.kind, round(a.duration * US))
    except EditError as e:
        raise UserError(str(e), 1) from e
    revision = _save(ctx, draft, edit)
    fps = edit.canvas.fps
    span = next((s for s in transition_spans(edit) if s.index == a.after - 1), None)
    data = {"ok": True, "id": draft.id, "revision": revision, "after": a.after,
            "kind": None if a.none else a.kind, "frames": span.frames if span else 0,
            "duration_us": edit.duration_us}
    if a.none:
        human = f"Removed the transition after clip {a.after}; the reel lasts {edit.duration_us / US:.2f} s."
    elif span is None:
        human = f"Clip {a.after} or the next one is too short for a transition; it is kept as a cut."
    else:
        human = (f"A {a.kind} of {span.frames} frames ({span.frames / fps:.2f} s) after clip {a.after}; "
                 f"the reel lasts {edit.duration_us / US:.2f} s (revision {revision}).")
    ctx.emit(data, human)
    return 0


def run_reframe(ctx) -> int:  # noqa: ANN001
    from studio.visual.reframe_path import ReframeError, follow_subject_draft

    draft, edit = _load(ctx)
    try:
        edit, report = follow_subject_draft(ctx.studio, draft, edit, clip_number=ctx.args.clip)
    except ReframeError as e:
        raise UserError(str(e), 1) from e
    revision = _save(ctx, draft, edit)
    lines = [f"Clip {r['clip']}: {r['keys']} keyframes, subject {r['subject']}" for r in report]
    ctx.emit({"ok": True, "id": draft.id, "revision": revision, "clips": report},
             "\n".join(lines) + f"\nSaved as revision {revision}.")
    return 0


def run_beat_cuts(ctx) -> int:  # noqa: ANN001
    from studio.visual.beats import BeatError, beat_cuts_draft

    draft, edit = _load(ctx)
    try:
        edit, report = beat_cuts_draft(ctx.studio, draft, edit, ctx.args.music)
    except BeatError as e:
        raise UserError(str(e), 1) from e
    revision = _save(ctx, draft, edit)
    ctx.emit({"ok": True, "id": draft.id, "revision": revision, **report},
             f"{report['tempo_bpm']:.1f} BPM; {len(report['cuts_us'])} cuts on the beat; "
             f"the reel lasts {edit.duration_us / 1e6:.2f} s (revision {revision}).")
    return 0
