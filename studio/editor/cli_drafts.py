"""`studio drafts export-edit | import-edit | export-otio` (registered by studio/cli/drafts.py).

    studio drafts export-edit ID [-o FILE]      the edit document as JSON (stdout by default)
    studio drafts import-edit ID FILE           validate, migrate and save it as a new revision
    studio drafts export-otio ID -o OUT.otio    the timeline for Resolve / Kdenlive (OpenTimelineIO)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from studio.cli import UserError, add_json_flag


def register_drafts(ds) -> None:  # noqa: ANN001 - argparse's private subparsers type
    c = ds.add_parser("export-edit", help="print a draft's edit document (JSON) to stdout or a file")
    c.add_argument("id")
    c.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE instead of stdout")
    _finish(c, run_export_edit)

    c = ds.add_parser("import-edit", help="replace a draft's edit with a JSON file (validated; a new revision)")
    c.add_argument("id")
    c.add_argument("file", metavar="FILE", help="an edit document, e.g. from export-edit ('-' reads stdin)")
    _finish(c, run_import_edit)

    c = ds.add_parser("export-otio", help="write the draft's timeline as OpenTimelineIO (.otio)")
    c.add_argument("id")
    c.add_argument("-o", "--output", metavar="OUT.otio", required=True)
    _finish(c, run_export_otio)


def _finish(p, handler) -> None:  # noqa: ANN001
    add_json_flag(p)
    p.set_defaults(handler=handler)


def load_draft(ctx, prefix: str):  # noqa: ANN001, ANN201 - Context -> Draft
    """The draft for an id or unique id prefix; user errors become CLI errors (exit 1)."""
    from studio.drafts import DraftError, DraftNotFound

    store = ctx.studio.drafts
    try:
        return store.get(store.resolve_id(prefix) if hasattr(store, "resolve_id") else prefix)
    except (DraftNotFound, DraftError) as e:
        raise UserError(str(e), 1) from e


def run_export_edit(ctx) -> int:  # noqa: ANN001
    from studio.editor.document import Edit, EditError

    draft = load_draft(ctx, ctx.args.id)
    try:
        data = Edit.from_dict(draft.edit).to_dict()
    except EditError as e:
        print(f"studio: warning: the stored edit does not validate ({e}); printing it as stored.", file=sys.stderr)
        data = draft.edit
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if ctx.args.output:
        try:
            Path(ctx.args.output).write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise UserError(f"Cannot write {ctx.args.output}: {e.strerror}.", 1) from e
        ctx.emit({"ok": True, "id": draft.id, "revision": draft.revision, "path": ctx.args.output},
                 f"Wrote the edit of {draft.id[:8]} (revision {draft.revision}) to {ctx.args.output}")
    else:
        print(text)
    return 0


def run_import_edit(ctx) -> int:  # noqa: ANN001
    from studio.drafts import DraftError
    from studio.editor.document import Edit, EditError, validate

    draft = load_draft(ctx, ctx.args.id)
    try:
        raw = sys.stdin.read() if ctx.args.file == "-" else Path(ctx.args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"Cannot read {ctx.args.file}: {getattr(e, 'strerror', None) or e}.", 1) from e
    try:
        edit = Edit.from_dict(raw)
        validate(edit, asset_ids={a.id for a in draft.assets})
    except EditError as e:
        raise UserError(f"{ctx.args.file} was not imported: {e}", 1) from e
    try:
        revision = ctx.studio.drafts.update_edit(draft.id, edit.to_dict())
    except DraftError as e:
        raise UserError(str(e), 1) from e
    ctx.emit({"ok": True, "id": draft.id, "revision": revision, "schema_version": edit.schema_version},
             f"Imported the edit into {draft.id[:8]} as revision {revision}.")
    return 0


def run_export_otio(ctx) -> int:  # noqa: ANN001
    from studio.editor.export import ExportError, draft_assets, load_edit
    from studio.editor.otio import write_otio

    draft = load_draft(ctx, ctx.args.id)
    try:
        edit = load_edit(draft)
    except ExportError as e:
        raise UserError(str(e), 1) from e
    out = Path(ctx.args.output)
    try:
        write_otio(edit, draft_assets(ctx.studio, draft), out, name=draft.title)
    except OSError as e:
        raise UserError(f"Cannot write {out}: {e.strerror}.", 1) from e
    ctx.emit({"ok": True, "id": draft.id, "path": str(out.absolute()), "clips": len(edit.clips),
              "music": len(edit.music)}, f"Wrote {out} ({len(edit.clips)} clips, {len(edit.music)} music tracks).")
    return 0
