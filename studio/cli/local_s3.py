"""`studio local-s3 start|stop|status` — the embedded SeaweedFS ("This computer")."""

from __future__ import annotations

from studio.cli import Context, UserError, add_json_flag


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("local-s3", help="the local S3 server on this computer (SeaweedFS on 127.0.0.1)")
    cmds = p.add_subparsers(dest="local_s3_command", metavar="ACTION", required=True)
    s = cmds.add_parser("start", help="start it and leave it running in the background until `stop`")
    add_json_flag(s)
    s = cmds.add_parser("stop", help="stop it")
    add_json_flag(s)
    s = cmds.add_parser("status", help="whether it runs, and where")
    s.add_argument("--show-credentials", action="store_true", help="include the access and secret key")
    add_json_flag(s)
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from studio.uploader.errors import UploadError

    s3 = ctx.studio.local_s3
    action = ctx.args.local_s3_command
    try:
        if action == "start":
            s3.keep_running = True
            endpoint = s3.ensure_running()
            ctx.emit({"ok": True, "endpoint": endpoint, "bucket": s3.bucket},
                     f"Local S3 running at {endpoint} (bucket {s3.bucket}); stop it with `studio local-s3 stop`.")
        elif action == "stop":
            was = s3.stop()
            ctx.emit({"ok": True, "was_running": was}, "Stopped." if was else "It was not running.")
        else:
            _status(ctx, s3)
    except UploadError as e:
        raise UserError(str(e), 1) from None
    return 0


def _status(ctx: Context, s3) -> None:  # noqa: ANN001 - local_s3.LocalS3
    from studio.uploader import local_s3

    info = local_s3.status(ctx.studio.layout)
    info["bucket"] = s3.bucket
    info["region"] = "us-east-1"
    if ctx.args.show_credentials:
        c = s3.credentials()
        info["access_key"], info["secret_key"] = c["access_key"], c["secret_key"]
    human = info["state"] + (f"\nbucket: {s3.bucket}" if info["running"] else "")
    if ctx.args.show_credentials:
        human += f"\naccess key: {info['access_key']}\nsecret key: {info['secret_key']}"
    ctx.emit(info, human)
