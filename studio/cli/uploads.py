"""`studio uploads enqueue|list|run|pause|resume|cancel|retry`."""

from __future__ import annotations

import sys

from studio.cli import Context, UserError, add_json_flag


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("uploads", help="the background upload queue (resumes where it stopped)")
    cmds = p.add_subparsers(dest="uploads_command", metavar="ACTION", required=True)
    e = cmds.add_parser("enqueue", help="queue a file or a draft (exported first) for upload; prints the job id")
    e.add_argument("item", metavar="PATH_OR_DRAFT_ID")
    e.add_argument("--target", default="local", help="target name (default: local, this computer)")
    e.add_argument("--title", default="")
    e.add_argument("--run", action="store_true",
                   help="then upload it now, in this terminal, and exit when nothing is left to upload "
                        "(as `uploads run --until-idle`; the job id goes to stderr)")
    add_json_flag(e)
    ls = cmds.add_parser("list", help="the jobs with their state, dates and, once finished, a link (url)")
    add_json_flag(ls)
    cl = cmds.add_parser("clear", help="forget finished and cancelled jobs (the uploaded files stay)")
    add_json_flag(cl)
    r = cmds.add_parser("run", help="upload now, in this terminal (progress on stderr)")
    r.add_argument("--until-idle", action="store_true", help="exit when nothing is left to upload")
    add_json_flag(r)
    for name, text in (("pause", "pause a job"), ("resume", "resume a paused job"),
                       ("cancel", "cancel a job (aborts the multipart upload on the server)"),
                       ("retry", "retry a failed or cancelled job")):
        c = cmds.add_parser(name, help=text)
        c.add_argument("job_id", metavar="ID", help="job id (a unique prefix is enough), or 'all' for pause/resume")
        add_json_flag(c)
    p.set_defaults(handler=run)


def _job_dict(j, delivery=None) -> dict:  # noqa: ANN001 - store.UploadJob, webhook.Delivery | None
    """``sha256`` is the proven one: set only once the stored object was verified to be those bytes."""
    verified = j.state == "COMPLETED" and j.verified_us is not None
    return {"id": j.id, "state": j.state, "target": j.target_name, "bucket": j.bucket, "key": j.key,
            "bytes_total": j.size, "bytes_done": min(j.bytes_done, j.size), "error": j.error, "notice": j.notice,
            "paused_reason": j.paused_reason, "draft_id": j.draft_id, "title": j.title,
            "sha256": j.sha256 if verified else None, "sha256_expected": j.sha256, "verified": verified,
            "upload_id": j.upload_id, "part_size": j.part_size, "webhook": j.webhook_status,
            "webhook_delivery": delivery.to_dict() if delivery is not None else None}


def _jobs_json(ctx: Context) -> list[dict]:
    deliveries = ctx.studio.uploads.webhooks.by_job()
    return [_job_dict(j, deliveries.get(j.id)) for j in ctx.studio.uploads.list()]


def run(ctx: Context) -> int:
    from studio.uploader.errors import UploadError

    action = ctx.args.uploads_command
    try:
        return {"enqueue": _enqueue, "list": _list, "run": _run, "clear": _clear}.get(action, _control)(ctx)
    except (UploadError, KeyError) as e:   # KeyError: the draft store's DraftNotFound (it carries a sentence)
        raise UserError(str(e), 1) from None


def _enqueue(ctx: Context) -> int:
    from pathlib import Path

    item, queue = ctx.args.item, ctx.studio.uploads
    if Path(item).exists():
        job = queue.enqueue_file(Path(item), ctx.args.target, title=ctx.args.title)
    elif len(item) == 32 and all(c in "0123456789abcdef" for c in item):
        try:
            job = queue.enqueue_draft(item, ctx.args.target, on_progress=_export_progress)
        finally:
            print(file=sys.stderr)   # end the "exporting" progress line
    else:
        raise UserError(f"{item} is neither a file nor a draft id.", 2)
    if ctx.args.run:
        print(f"{job.id[:8]} queued ({job.id})", file=sys.stderr, flush=True)
        ctx.args.until_idle = True
        return _run(ctx)
    ctx.emit({"ok": True, "id": job.id, "job": _job_dict(job)}, job.id)
    return 0


def _export_progress(fraction: float, eta: float | None) -> None:
    print(f"\rexporting {fraction * 100:5.1f}%", end="", file=sys.stderr, flush=True)


def _when(us: int | None) -> str | None:
    from datetime import datetime, timezone

    return None if us is None else datetime.fromtimestamp(us / 1e6, timezone.utc).isoformat(timespec="seconds")


def _with_link(queue, j, delivery=None) -> dict:  # noqa: ANN001 - UploadQueue, store.UploadJob, Delivery
    """The job's dict with its dates and, once finished, the link that opens it (``url``)."""
    from studio.uploader.errors import UploadError

    d = {**_job_dict(j, delivery), "created": _when(j.created_us), "completed": _when(j.completed_us), "url": None,
         "url_expires": None}
    if j.state == "COMPLETED":
        try:
            link = queue.link_info(j.id)
            d.update(url=link["url"], url_expires=_when(link["expires_us"]), url_kind=link["kind"])
            if j.target_name == "local":
                d["url_note"] = ("served by the storage on this computer: opens while Reel Studio "
                                 "(or `studio local-s3 start`) runs")
        except UploadError as e:
            d["url_error"] = str(e)
    return d


def _list(ctx: Context) -> int:
    from studio.uploader.progress import human_bytes

    queue = ctx.studio.uploads
    listed = queue.list()
    _serve_local_links(ctx, queue, listed)
    deliveries = queue.webhooks.by_job()
    jobs = [_with_link(queue, j, deliveries.get(j.id)) for j in listed]
    lines = []
    for j in jobs:
        lines.append(f"{j['id'][:8]}  {j['state']:<11} {human_bytes(j['bytes_done']):>9} / "
                     f"{human_bytes(j['bytes_total']):<9} {(j['completed'] or j['created'] or '')[:16]}  "
                     f"{j['title'] or j['key']} → {j['target']}"
                     + (f"  — {j['error'] or j['notice']}" if j["error"] or j["notice"] else "")
                     + (f"  [webhook {j['webhook']}]" if j["webhook"] else ""))
        if j["url"]:
            until = f" (until {j['url_expires'][:16].replace('T', ' ')} UTC)" if j["url_expires"] else ""
            lines.append(f"          {j['url']}{until}")
            if j.get("url_note"):
                lines.append(f"          ({j['url_note']})")
    ctx.emit(jobs, "\n".join(lines) or "No uploads.")
    return 0


def _serve_local_links(ctx: Context, queue, jobs) -> None:  # noqa: ANN001 - UploadQueue, list[UploadJob]
    """Links to "This computer" open only while its storage runs: when the list has such links and
    nothing serves them, start it in the background (as `studio local-s3 start` does) and say so."""
    from studio.uploader.errors import LocalS3Error

    local = [j for j in jobs if j.state == "COMPLETED" and j.target_name == "local"]
    if not local:
        return
    s3 = ctx.studio.local_s3
    if s3.is_serving():
        return
    s3.keep_running = True
    try:
        s3.ensure_running()
    except LocalS3Error as e:
        print(f"studio: the links to this computer will not open: {e}", file=sys.stderr)
        return
    if not queue.wait_link_opens(local[0].id):
        print("studio: the storage on this computer started but does not serve its files yet; try the links "
              "in a moment.", file=sys.stderr)
        return
    print("studio: started the storage on this computer so its links open; `studio local-s3 stop` stops it.",
          file=sys.stderr)


def _clear(ctx: Context) -> int:
    n = ctx.studio.uploads.clear_finished()
    ctx.emit({"ok": True, "cleared": n}, f"Cleared {n} finished upload(s).")
    return 0


def _control(ctx: Context) -> int:
    queue, action, jid = ctx.studio.uploads, ctx.args.uploads_command, ctx.args.job_id
    if jid == "all" and action in ("pause", "resume"):
        n = queue.pause_all() if action == "pause" else queue.resume_all()
        ctx.emit({"ok": True, "count": n}, f"{action}d {n} job(s)")
        return 0
    job = getattr(queue, action)(jid)
    ctx.emit({"ok": True, "job": _job_dict(job)}, f"{job.id[:8]} {job.state}")
    return 0


def _say_what_continues(ctx: Context) -> None:
    n = ctx.studio.uploads.unfinished_count()
    if n:
        print(f"{n} upload{'s' if n != 1 else ''} will continue next time (the app, or `studio uploads run`).",
              file=sys.stderr, flush=True)


def _run(ctx: Context) -> int:
    import signal
    import threading

    from studio.uploader.progress import ProgressMeter, human_bytes, human_eta

    stop = threading.Event()

    def on_signal(signum, _frame) -> None:  # noqa: ANN001
        # Ctrl+C and SIGTERM alike: stop at once; acknowledged parts are committed, the job resumes later.
        if not stop.is_set():
            print(f"Stopping ({signal.Signals(signum).name}); the uploads resume where they are on the next run.",
                  file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    meters: dict[str, ProgressMeter] = {}

    def on_event(kind: str, job_id: str, payload: object) -> None:
        if kind == "progress":
            done, total = payload
            p = meters.setdefault(job_id, ProgressMeter(max_per_second=2)).update(done, total)
            if p:
                print(f"{job_id[:8]} {p.fraction * 100:5.1f}% {human_bytes(p.done)}/{human_bytes(p.total)} "
                      f"{human_bytes(p.rate)}/s ETA {human_eta(p.eta)}", file=sys.stderr, flush=True)
        elif kind == "restart":
            meters.pop(job_id, None)   # from zero, said so: never hidden by the old maximum
            print(f"{job_id[:8]} restarted from zero: {payload}", file=sys.stderr, flush=True)
        elif kind == "webhook":
            print(f"{job_id[:8]} webhook {payload}", file=sys.stderr, flush=True)
        elif kind == "state":
            job = ctx.studio.uploads.get(job_id)
            extra = f": {job.error}" if job.error and payload in ("FAILED", "PAUSED") else ""
            print(f"{job_id[:8]} {payload}{extra}", file=sys.stderr, flush=True)
        else:
            print(f"{job_id[:8]} {payload}", file=sys.stderr, flush=True)

    try:
        summary = ctx.studio.uploads.run(until_idle=ctx.args.until_idle, stop=stop, on_event=on_event)
    except KeyboardInterrupt:
        stop.set()
        _say_what_continues(ctx)
        raise
    _say_what_continues(ctx)
    jobs = ctx.studio.uploads.list()
    failed = [j for j in jobs if j.state == "FAILED"]
    ctx.emit({"ok": not failed, **summary, "stopped": stop.is_set(), "jobs": _jobs_json(ctx)},
             f"completed {summary['completed']}, failed {summary['failed']}, paused {summary['paused']}")
    if stop.is_set():
        from studio.cli import exit_now

        exit_now(ctx, 130)
    return 1 if summary["failed"] else 0
