"""`studio drafts list|show|import|cover|rename|duplicate|delete|restore|purge|recover` (all with --json),
and the edit document in and out:

    studio drafts export-edit ID [-o FILE]      the edit document as JSON (stdout by default)
    studio drafts import-edit ID FILE           validate, migrate and save it as a new revision
    studio drafts export-otio ID -o OUT.otio    the timeline for Resolve / Kdenlive (OpenTimelineIO)

Draft ids may be shortened to a unique prefix of at least 6 characters (DraftStore.resolve_id, the
same resolver as `studio --open`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from studio.cli import Context, UserError, add_json_flag, days
# Heavy modules (Qt, PIL, OpenTimelineIO) are imported inside the commands that need them: every
# `studio` command imports every command module to build its parser.
from studio.drafts import DraftError, DraftNotFound
from studio.editor import document
from studio.editor.document import Edit, EditError, validate
from studio.media.probe import MediaError


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("drafts", help="list, import, rename, delete, restore and recover drafts")
    add_json_flag(p)
    p.set_defaults(handler=lambda ctx: _help(p))
    ds = p.add_subparsers(dest="drafts_command", metavar="ACTION")

    c = ds.add_parser("list", help="drafts, newest first")
    c.add_argument("--search", default="", help="only drafts whose title contains this")
    c.add_argument("--trash", action="store_true", help="list the Trash instead")
    c.add_argument("--limit", type=int, default=1000)
    c.add_argument("--offset", type=int, default=0)
    _finish(c, run_list)

    c = ds.add_parser("show", help="one draft in full (edit document, media, kept revisions)")
    c.add_argument("id")
    _finish(c, run_show)

    c = ds.add_parser("import", help="import video files, one draft each; good files are kept, refused ones "
                                     "listed with the reason (exit 0 if any was imported, 2 if none)")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--title", default=None, help="title of the new draft (numbered when there are several)")
    c.add_argument("--together", action="store_true", help="one draft holding every good file as its clips")
    _finish(c, run_import)

    c = ds.add_parser("cover", help="write the draft's cover frame as an image, full size (as the tray and a post show it)")
    c.add_argument("id")
    c.add_argument("-o", "--output", metavar="FILE", required=True, help="a .jpg, .png or .webp file")
    _finish(c, run_cover)

    c = ds.add_parser("rename", help="give a draft a new title")
    c.add_argument("id")
    c.add_argument("title")
    _finish(c, run_rename)

    c = ds.add_parser("duplicate", help="copy a draft (the media is shared, not copied)")
    c.add_argument("id")
    _finish(c, run_duplicate)

    c = ds.add_parser("delete", help="move drafts to the Trash (restorable for 30 days)")
    c.add_argument("ids", nargs="+", metavar="ID")
    _finish(c, run_delete)

    c = ds.add_parser("restore", help="bring drafts back from the Trash")
    c.add_argument("ids", nargs="+", metavar="ID")
    _finish(c, run_restore)

    c = ds.add_parser("purge", help="delete drafts in the Trash for good (default: trashed over 30 days ago)")
    c.add_argument("ids", nargs="*", metavar="ID", help="only these trashed drafts")
    c.add_argument("--all", action="store_true", help="empty the whole Trash now")
    c.add_argument("--older-than", type=days, default=30.0, metavar="DAYS")
    _finish(c, run_purge)

    c = ds.add_parser("recover", help="reconcile drafts with the media on disk; list unsaved takes")
    _finish(c, run_recover)

    _register_edit_commands(ds)


def _finish(p, handler) -> None:  # noqa: ANN001
    add_json_flag(p)
    p.set_defaults(handler=handler)


def _help(p) -> int:  # noqa: ANN001
    p.print_help()
    return 2


def _store(ctx: Context):
    return ctx.studio.drafts


def _resolve(store, prefix: str) -> str:  # noqa: ANN001
    try:
        return store.resolve_id(prefix)
    except (DraftNotFound, DraftError) as e:
        raise UserError(str(e), 1) from e


def _call(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
    """Service errors with a sentence for the user become CLI errors (exit 1)."""
    try:
        return fn(*args, **kwargs)
    except (DraftError, DraftNotFound, MediaError) as e:
        raise UserError(str(e), 1) from e


def _line(d) -> str:  # noqa: ANN001
    flag = "  [media missing]" if d.media_missing else ""
    return (f"{d.id[:8]}  {d.updated_at:%Y-%m-%d %H:%M}  {d.duration_us / 1e6:7.1f}s  {d.status:<9}  "
            f"{d.title}{flag}")


def run_list(ctx: Context) -> int:
    a = ctx.args
    store = _store(ctx)
    drafts = store.list_drafts(search=a.search, offset=a.offset, limit=a.limit, trashed=a.trash)
    ctx.emit([d.to_dict() for d in drafts],
             "\n".join(_line(d) for d in drafts) if drafts else ("The Trash is empty." if a.trash else "No drafts yet."))
    return 0


def run_show(ctx: Context) -> int:
    store = _store(ctx)
    d = _call(store.get, _resolve(store, ctx.args.id))
    data = d.to_dict(with_edit=True)
    data["revisions"] = [{"revision": r, "saved_at": t.isoformat()} for r, t in store.revisions(d.id)]
    data["media_paths"] = [str(store.asset_path(x)) for x in d.assets]
    human = [_line(d), f"id        {d.id}", f"revision  {d.revision} (kept: {len(data['revisions'])})"]
    human += [f"media     {p}{'  (missing)' if x.missing else ''}" for p, x in zip(data["media_paths"], d.assets)]
    ctx.emit(data, "\n".join(human))
    return 0


def run_import(ctx: Context) -> int:
    store = _store(ctx)
    report = _call(store.import_batch, [Path(f) for f in ctx.args.files], title=ctx.args.title,
                   together=ctx.args.together)
    store.wait_idle(60)   # covers and hashes are finished before the process ends
    made = [store.get(d.id) for d in report.drafts]
    data = {"ok": bool(made), "imported": [d.to_dict() for d in made],
            "refused": [r.to_dict() for r in report.refused], "summary": report.summary()}
    if len(made) == 1:   # one draft: its fields at the top too, as `drafts show` gives them
        data = {**made[0].to_dict(), **data}
    if not made:
        data["error"] = report.summary()
    if ctx.json:
        ctx.emit(data)
    else:
        lines = [f"  {d.id[:8]}  “{d.title}”  {len(d.assets)} clip(s)  {d.duration_us / 1e6:.1f}s" for d in made]
        print("\n".join([report.summary(), *lines]), file=sys.stdout if made else sys.stderr)
    return 0 if made else 2


COVER_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def run_cover(ctx: Context) -> int:
    from studio.drafts.thumbs import image_bytes   # PIL and the render graph: only for this command

    out = Path(ctx.args.output).absolute()
    fmt = COVER_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UserError(f"Cannot write a cover as “{out.suffix or out.name}”: name the file .jpg, .png or .webp.", 2)
    store = _store(ctx)
    d = _call(store.get, _resolve(store, ctx.args.id))
    img = _call(store.cover_image, d)
    frame = document.cover_frame(d.edit)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        tmp.write_bytes(image_bytes(img, fmt))
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UserError(f"Cannot write {out}: {e.strerror}.", 1) from e
    ctx.emit({"ok": True, "id": d.id, "path": str(out), "width": img.width, "height": img.height,
              "asset_id": frame.asset_id if frame else None, "source_us": frame.source_us if frame else None,
              "time_us": frame.timeline_us if frame else None},
             f"Wrote the cover of {d.id[:8]} ({img.width}×{img.height}) to {out}.")
    return 0


def run_rename(ctx: Context) -> int:
    store = _store(ctx)
    draft_id = _resolve(store, ctx.args.id)
    _call(store.rename, draft_id, ctx.args.title)
    d = store.get(draft_id)
    ctx.emit({"ok": True, "id": d.id, "title": d.title}, f"Renamed {d.id[:8]} to “{d.title}”.")
    return 0


def run_duplicate(ctx: Context) -> int:
    store = _store(ctx)
    d = _call(store.duplicate, _resolve(store, ctx.args.id))
    ctx.emit({"ok": True, **d.to_dict()}, f"Duplicated as {d.id} “{d.title}”.")
    return 0


def run_delete(ctx: Context) -> int:
    store = _store(ctx)
    ids = [_resolve(store, i) for i in ctx.args.ids]
    n = _call(store.delete, ids)
    ctx.emit({"ok": True, "ids": ids, "moved_to_trash": n},
             f"Moved {n} draft(s) to the Trash (restore with `studio drafts restore ID`).")
    return 0


def run_restore(ctx: Context) -> int:
    store = _store(ctx)
    ids = [_resolve(store, i) for i in ctx.args.ids]
    n = _call(store.restore, ids)
    ctx.emit({"ok": True, "ids": ids, "restored": n}, f"Restored {n} draft(s).")
    return 0


def run_purge(ctx: Context) -> int:
    a = ctx.args
    store = _store(ctx)
    if a.ids:
        report = _call(store.purge, draft_ids=[_resolve(store, i) for i in a.ids], older_than_days=None)
    else:
        report = _call(store.purge, older_than_days=None if a.all else a.older_than)
    ctx.emit({"ok": True, **report},
             f"Deleted {report['drafts']} draft(s) for good, freeing {report['bytes'] / 2**20:.1f} MiB.")
    return 0


def run_recover(ctx: Context) -> int:
    store = _store(ctx)
    report = store.recover()
    first = store.last_recovery or {}
    # Opening the store already recovered; merge so the caller sees what that first pass fixed.
    for key in ("staging", "relinked", "recovered_files"):
        report[key] = list(first.get(key, [])) + list(report.get(key, []))
    report["recovered_draft"] = report.get("recovered_draft") or first.get("recovered_draft")
    report["purged"] = int(report.get("purged", 0)) + int(first.get("purged", 0))
    ctx.emit(report, _recover_text(report))
    return 0 if report["ok"] else 1


def _recover_text(r: dict) -> str:
    lines = []
    if r["staging"]:
        lines.append(f"Settled {len(r['staging'])} interrupted save(s) or purge(s).")
    if r["relinked"]:
        lines.append(f"Found {len(r['relinked'])} moved media file(s) again and relinked them.")
    for m in r["missing"]:
        lines.append(f"Media missing: {m['path']} (the draft is kept and flagged; put the file back under media/).")
    for m in r["damaged"]:
        lines.append(f"Media changed or damaged: {m['path']} (its size no longer matches).")
    if r["recovered_draft"]:
        lines.append(f"{len(r['recovered_files'])} media file(s) without a draft were put into draft "
                     f"{r['recovered_draft']} “Recovered”.")
    for t in r["unsaved_takes"]:
        lines.append(f"Unsaved take: {t['media']} ({t['size'] / 2**20:.1f} MiB) — save it from the Drafts page.")
    if r["purged"]:
        lines.append(f"Emptied {r['purged']} draft(s) that were in the Trash for over 30 days.")
    return "\n".join(lines) or "Everything is in order: every draft has its media and every media file its draft."


# -- the edit document in and out --------------------------------------------------------------

def _register_edit_commands(ds) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """The edit document in and out: export-edit, import-edit, export-otio."""
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


def load_draft(ctx, prefix: str):  # noqa: ANN001, ANN201 - Context -> Draft
    """The draft for an id or unique id prefix; user errors become CLI errors (exit 1)."""
    store = ctx.studio.drafts
    try:
        return store.get(store.resolve_id(prefix))
    except (DraftNotFound, DraftError) as e:
        raise UserError(str(e), 1) from e


def run_export_edit(ctx) -> int:  # noqa: ANN001
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
    from studio.editor.export import ExportError, load_edit   # Qt and OpenTimelineIO: only for this command
    from studio.editor.otio import write_otio

    draft = load_draft(ctx, ctx.args.id)
    try:
        edit = load_edit(draft)
    except ExportError as e:
        raise UserError(str(e), 1) from e
    out = Path(ctx.args.output)
    try:
        write_otio(edit, ctx.studio.drafts.media_refs(draft), out, name=draft.title)
    except OSError as e:
        raise UserError(f"Cannot write {out}: {e.strerror}.", 1) from e
    ctx.emit({"ok": True, "id": draft.id, "path": str(out.absolute()), "clips": len(edit.clips),
              "music": len(edit.music)}, f"Wrote {out} ({len(edit.clips)} clips, {len(edit.music)} music tracks).")
    return 0
