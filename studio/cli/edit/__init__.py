"""`studio edit ID ACTION …`: headless edit operations on a draft, each saved as a new revision.

    studio edit ID captions [--engine auto|builtin|whisper] [--json]       (captions.py)
    studio edit ID captions --srt FILE | --vtt FILE
    studio edit ID cut-silences [--min-silence S] [--padding S] [--threshold DB] [--dry-run] [--json]
    studio edit ID transition --after N --kind crossfade|dip|slide|zoom|whip --duration S [--json]   (visual.py)
    studio edit ID transition --after N --none
    studio edit ID reframe --follow-subject [--clip N] [--json]
    studio edit ID beat-cuts --music FILE_OR_ASSET [--json]

Every action validates the new edit before it is saved; a refusal is a sentence and changes nothing.
"""

from __future__ import annotations

import sys

from studio.cli.edit import captions, visual


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("edit", help="headless edit operations (captions, cut-silences, transition, reframe, "
                                    "beat-cuts)")
    p.add_argument("id", help="draft id (or its first 6+ characters)")
    p.set_defaults(handler=lambda ctx: _help(p))
    actions = p.add_subparsers(dest="edit_action", metavar="ACTION")
    captions.add_actions(actions)
    visual.add_actions(actions)


def _help(p) -> int:  # noqa: ANN001 - argparse.ArgumentParser
    p.print_help(sys.stderr)
    return 2
