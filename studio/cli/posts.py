"""`studio posts list|show|delete|cancel|retry`: published posts, their state, links and files."""

from __future__ import annotations

from studio.cli import Context, UserError, add_json_flag


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("posts", help="published posts: state, share link, playlist, manifest, files")
    cmds = p.add_subparsers(dest="posts_command", metavar="ACTION", required=True)
    ls = cmds.add_parser("list", help="every post, newest first")
    add_json_flag(ls)
    for name, text in (("show", "one post: state, share_url, master_playlist_url, manifest_url and its files"),
                       ("delete", "remove the post from the bucket (every file under posts/<id>/) and forget it"),
                       ("cancel", "cancel the post's unfinished uploads"),
                       ("retry", "a failed or cancelled post again (verified files are not sent again)")):
        c = cmds.add_parser(name, help=text)
        c.add_argument("post_id", metavar="POST_ID", help="post id (a unique prefix of 4+ characters is enough)")
        add_json_flag(c)
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from studio.publish.posts import PostError
    from studio.uploader.errors import UploadError

    try:
        return {"list": _list, "show": _show, "delete": _delete, "cancel": _cancel,
                "retry": _retry}[ctx.args.posts_command](ctx)
    except (PostError, UploadError) as e:
        code = 2 if type(e).__name__ == "PostNotFound" else 1
        raise UserError(e.user_message, code) from None


def _serve_local(ctx: Context, posts) -> None:  # noqa: ANN001 - list[Post]
    """Links to "This computer" open while its storage runs: start it (kept running) when a live post needs it."""
    import sys

    from studio.uploader.errors import LocalS3Error

    if not any(p.state == "LIVE" and p.target_name == "local" for p in posts):
        return
    s3 = ctx.studio.local_s3
    if s3.is_serving():
        return
    s3.keep_running = True
    try:
        s3.ensure_running()
        print("studio: started the storage on this computer so the post's links open; `studio local-s3 stop` "
              "stops it.", file=sys.stderr)
    except LocalS3Error as e:
        print(f"studio: the links to this computer will not open: {e}", file=sys.stderr)


def _list(ctx: Context) -> int:
    service = ctx.studio.posts
    posts = service.list()
    service.tidy()
    _serve_local(ctx, posts)
    rows = [service.show(p.id) for p in posts]
    lines = []
    for r in rows:
        lines.append(f"{r['post_id'][:8]}  {r['state']:<10} {r['files_verified']:>3}/{r['files_total']:<3} files  "
                     f"{r['title'] or r['draft_id'][:8]} → {r['target']}"
                     + (f"  — {r['message']}" if r["message"] and r["state"] != "UPLOADING" else ""))
        if r["share_url"]:
            lines.append(f"          {r['share_url']}")
    ctx.emit([{k: v for k, v in r.items() if k != "files"} for r in rows], "\n".join(lines) or "No posts.")
    return 0


def _show(ctx: Context) -> int:
    service = ctx.studio.posts
    post = service.get(ctx.args.post_id)
    _serve_local(ctx, [post])
    d = service.show(post.id)
    lines = [f"post {d['post_id']}  {d['state']}" + (f" — {d['message']}" if d["message"] else ""),
             f"  {d['title']} (draft {d['draft_id'][:8]}) → {d['target']}  {d['files_verified']}/{d['files_total']} "
             "files verified"]
    for k in ("share_url", "master_playlist_url", "manifest_url"):
        if d[k]:
            lines.append(f"  {k}: {d[k]}")
    if d.get("links_expire_us"):
        from datetime import datetime, timezone

        lines.append("  links valid until " + datetime.fromtimestamp(d["links_expire_us"] / 1e6, timezone.utc)
                     .isoformat(timespec="minutes") + " (pre-signed)")
    for f in d["files"]:
        lines.append(f"    {f['state']:<11} {f['size']:>10}  {f['path']}")
    ctx.emit(d, "\n".join(lines))
    return 0


def _delete(ctx: Context) -> int:
    service = ctx.studio.posts
    post = service.get(ctx.args.post_id)
    n = service.delete(post.id)
    ctx.emit({"ok": True, "post_id": post.id, "deleted_objects": n}, f"Deleted post {post.id[:8]} ({n} files).")
    return 0


def _cancel(ctx: Context) -> int:
    post = ctx.studio.posts.cancel(ctx.args.post_id)
    ctx.emit({"ok": True, "post_id": post.id, "state": post.state}, f"{post.id[:8]} {post.state}")
    return 0


def _retry(ctx: Context) -> int:
    post = ctx.studio.posts.retry(ctx.args.post_id)
    if post.state == "FAILED":
        raise UserError(post.message or "The post failed again.", 1)
    ctx.emit({"ok": True, "post_id": post.id, "state": post.state}, f"{post.id[:8]} {post.state}")
    return 0
