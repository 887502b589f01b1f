"""`studio backend serve|add-device|revoke-device|list-devices` — the team's signing server.

It runs on a server, not in a creator's profile: it never opens studio.db, and it reads the bucket's
credentials from its own environment (the AWS chain), never from a flag.
"""

from __future__ import annotations

import argparse
import os

from studio.cli import Context, UserError, add_json_flag

DEFAULT_DB = "studio-backend.db"
ENV_DB = "STUDIO_BACKEND_DB"


def _ttl(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a number of seconds") from None
    if not 1 <= value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError("a part URL lives 1 s to 7 days (604800 s); 900 is a good choice")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return value


def _db_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=os.environ.get(ENV_DB, DEFAULT_DB), metavar="URL",
                   help="the backend's database: a SQLite file path, sqlite:///PATH, or "
                        "postgresql+psycopg://USER@HOST/DB (also $STUDIO_BACKEND_DB)")


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("backend", help="the team server that signs uploads (devices never hold the bucket's keys)")
    cmds = p.add_subparsers(dest="backend_command", metavar="ACTION", required=True)
    s = cmds.add_parser("serve", help="run the server (Uppy Companion's S3 multipart routes)",
                        description="The bucket's credentials come from this process's environment (AWS_PROFILE, "
                                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role). The webhook is "
                                    "signed with $STUDIO_WEBHOOK_SECRET. Binds 127.0.0.1 unless --host says "
                                    "otherwise; put a TLS-terminating proxy in front (docs/deploy.md).")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_port, default=8787)
    _db_flag(s)
    s.add_argument("--s3-endpoint", default="", metavar="URL", help="S3 endpoint; empty for AWS S3")
    s.add_argument("--bucket", required=True)
    s.add_argument("--region", default="us-east-1")
    s.add_argument("--addressing-style", choices=["auto", "path", "virtual"], default="path")
    s.add_argument("--part-url-ttl", type=_ttl, default=900, metavar="SECONDS",
                   help="how long a signed part URL is valid (default 900)")
    s.add_argument("--key-prefix", default="devices/", help="where device uploads go in the bucket")
    s.add_argument("--webhook", default=None, metavar="URL", help="POSTed, signed, when an upload completes")
    s.add_argument("--webhook-unsigned", action="store_true", help="send the webhook without a signature")
    s.add_argument("--filer-token-env", default=None, metavar="NAME",
                   help="accept SeaweedFS filer notifications on /storage/notify with the bearer token in $NAME")
    s.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="a web page origin (e.g. https://studio.example.com) allowed to upload with Uppy; repeatable")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    a = cmds.add_parser("add-device", help="add a device; prints its token once")
    a.add_argument("name")
    _db_flag(a)
    add_json_flag(a)
    r = cmds.add_parser("revoke-device", help="revoke a device's token (by id or name)")
    r.add_argument("device")
    _db_flag(r)
    add_json_flag(r)
    ls = cmds.add_parser("list-devices", help="the devices and whether their tokens are active")
    _db_flag(ls)
    add_json_flag(ls)
    p.set_defaults(handler=run, standalone=True)


def run(ctx: Context) -> int:
    from studio.backend.errors import BackendError, SchemaNewerError

    try:
        return {"serve": _serve, "add-device": _add, "revoke-device": _revoke,
                "list-devices": _list}[ctx.args.backend_command](ctx)
    except (BackendError, SchemaNewerError) as e:
        raise UserError(e.user_message, 1) from None


def _engine(ctx: Context):  # noqa: ANN202 - sqlalchemy Engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from studio.backend.db import open_database

    try:
        return open_database(ctx.args.db)
    except (ArgumentError, NoSuchModuleError) as e:
        raise UserError(f"The database URL {ctx.args.db!r} cannot be used ({e.__class__.__name__}); give a SQLite "
                        "file path or a postgresql+psycopg:// URL (with the psycopg package installed).", 2) from None
    except OperationalError as e:
        raise UserError(f"The database {ctx.args.db!r} cannot be opened ({str(e.orig)[:200]}).", 1) from None


def _add(ctx: Context) -> int:
    from studio.backend.devices import add_device

    device, token = add_device(_engine(ctx), ctx.args.name)
    ctx.emit({"ok": True, "device": device.to_dict(), "token": token},
             f"Added device {device.name} ({device.id}).\nIts token (shown only now; give it to the device):\n"
             f"{token}")
    return 0


def _revoke(ctx: Context) -> int:
    from studio.backend.devices import revoke_device

    device = revoke_device(_engine(ctx), ctx.args.device)
    ctx.emit({"ok": True, "device": device.to_dict()}, f"Revoked device {device.name} ({device.id}).")
    return 0


def _list(ctx: Context) -> int:
    from studio.backend.devices import list_devices

    found = list_devices(_engine(ctx))
    ctx.emit([d.to_dict() for d in found], "\n".join(
        f"{d.id}  {d.name:<24} {'active' if d.revoked_us is None else 'revoked'}" for d in found) or "No devices.")
    return 0


def _serve(ctx: Context) -> int:
    import logging

    import uvicorn

    from studio.backend.app import BackendConfig, create_app
    from studio.backend.outbox import WebhookConfig
    from studio.backend.storage import StorageConfig
    from studio.uploader.errors import UploadError
    from studio.uploader.webhook import ENV_SECRET, validate_url

    a = ctx.args
    if a.webhook:
        try:
            validate_url(a.webhook)
        except UploadError as e:
            raise UserError(str(e), 2) from None
        if not a.webhook_unsigned and not os.environ.get(ENV_SECRET):
            raise UserError(f"The webhook is signed with ${ENV_SECRET}: set it in this server's environment, or "
                            "choose --webhook-unsigned explicitly.", 2)
    filer_token = None
    if a.filer_token_env:
        filer_token = os.environ.get(a.filer_token_env)
        if not filer_token:
            raise UserError(f"--filer-token-env {a.filer_token_env}: ${a.filer_token_env} is not set.", 2)
    if not a.key_prefix.endswith("/") or a.key_prefix.startswith("/") or ".." in a.key_prefix:
        raise UserError("--key-prefix is a relative folder ending with '/', e.g. devices/.", 2)
    from urllib.parse import urlparse

    for origin in a.cors_origin:
        u = urlparse(origin)
        if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/"):
            raise UserError(f"--cors-origin {origin!r} is an origin such as https://studio.example.com.", 2)
    _engine(ctx)   # a bad URL or a newer schema is a sentence before the server starts
    config = BackendConfig(
        db_url=a.db, key_prefix=a.key_prefix, filer_token=filer_token, cors_origins=tuple(a.cors_origin),
        storage=StorageConfig(bucket=a.bucket, endpoint_url=a.s3_endpoint, region=a.region,
                              addressing_style=a.addressing_style, part_url_ttl=a.part_url_ttl),
        webhook=WebhookConfig(url=a.webhook, unsigned=bool(a.webhook and a.webhook_unsigned)))
    app = create_app(config)
    try:
        app.state.backend.storage.check()
    except Exception as e:  # noqa: BLE001 - the storage may come up later; say so now
        logging.getLogger(__name__).warning("the bucket %s does not answer yet (%s); serving anyway", a.bucket,
                                            type(e).__name__)
    print(f"Reel Studio backend on http://{a.host}:{a.port} (bucket {a.bucket}, database {a.db})", flush=True)
    uvicorn.run(app, host=a.host, port=a.port, log_level=a.log_level, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", server_header=False)
    return 0
