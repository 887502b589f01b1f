"""`studio targets add|list|remove|test`."""

from __future__ import annotations

import os
import sys

from studio.cli import Context, UserError, add_json_flag


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("targets", help="where uploads go (S3 buckets; 'local' is this computer)")
    cmds = p.add_subparsers(dest="targets_command", metavar="ACTION", required=True)
    a = cmds.add_parser("add", help="add an S3 target, or a team server (--backend URL)",
                        description="Secrets are never taken on the command line: with --credentials keyring "
                                    "the secret key comes from $STUDIO_SECRET_ACCESS_KEY or the first line of "
                                    "stdin (--secret-stdin); the webhook secret from $STUDIO_WEBHOOK_SECRET. "
                                    "A team server (--backend URL) signs every part and holds the bucket's keys: "
                                    "its device token goes to the keyring from $STUDIO_BACKEND_TOKEN or stdin "
                                    "(--secret-stdin), or, with --credentials env, is read from "
                                    "$STUDIO_BACKEND_TOKEN whenever uploads run.")
    a.add_argument("name")
    a.add_argument("--bucket", default=None, help="the bucket (not with --backend: the server has it)")
    a.add_argument("--backend", default=None, metavar="URL",
                   help="a team server (`studio backend serve`), e.g. https://uploads.example.com")
    a.add_argument("--endpoint", default="", help="endpoint URL; empty for AWS S3")
    a.add_argument("--region", default="us-east-1")
    a.add_argument("--key-template", default="reels/{date}/{draft_id}/{name}")
    a.add_argument("--addressing-style", choices=["auto", "path", "virtual"], default="auto")
    a.add_argument("--part-size", type=_size, default=8 * 1024**2, help="e.g. 8MiB (min 5MiB)")
    a.add_argument("--concurrency", type=int, default=4)
    a.add_argument("--checksum", choices=["SHA256", "CRC32", "CRC32C", "NONE"], default="SHA256")
    a.add_argument("--checksums-when-required", action="store_true",
                   help="send checksums only when the API requires them (for services that reject them)")
    a.add_argument("--bandwidth-limit", type=_size, default=0, help="bytes per second, e.g. 2MiB; 0 = none")
    a.add_argument("--credentials", choices=["aws", "keyring", "env"], default=None,
                   help="aws: the AWS credential chain (profile, environment); keyring: keys (or a team server's "
                        "token) stored in the OS keyring; env: a team server's token read from "
                        "$STUDIO_BACKEND_TOKEN at run time. Default: aws, or keyring with --backend")
    a.add_argument("--profile", default=None, help="AWS profile name (with --credentials aws)")
    a.add_argument("--access-key", default=None, help="access key id (with --credentials keyring)")
    a.add_argument("--secret-stdin", action="store_true", help="read the secret key from stdin")
    a.add_argument("--webhook", default=None,
                   help="http(s) URL to POST to when an upload completes, signed with $STUDIO_WEBHOOK_SECRET")
    a.add_argument("--webhook-unsigned", action="store_true",
                   help="send the webhook without a signature (an explicit choice; shown as unsigned)")
    a.add_argument("--public-base-url", default=None, metavar="URL",
                   help="where the bucket is public (a CDN, an R2 public bucket): links are URL/KEY instead of "
                        "pre-signed URLs that expire after 7 days")
    a.add_argument("--unmetered-only", action="store_true", help="upload only on unmetered networks")
    a.add_argument("--replace", action="store_true", help="replace a target with the same name")
    add_json_flag(a)
    ls = cmds.add_parser("list", help="the targets")
    add_json_flag(ls)
    r = cmds.add_parser("remove", help="remove a target (and its keyring entries)")
    r.add_argument("name")
    add_json_flag(r)
    t = cmds.add_parser("test", help="write, read and delete a small object; prints a verdict")
    t.add_argument("name")
    add_json_flag(t)
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from studio.uploader.errors import UploadError

    try:
        return {"add": _add, "list": _list, "remove": _remove, "test": _test}[ctx.args.targets_command](ctx)
    except UploadError as e:
        raise UserError(str(e), 1) from None


def _add_backend(ctx: Context) -> int:
    from studio.uploader.backend_client import ENV_TOKEN

    a = ctx.args
    credentials = a.credentials or "keyring"
    if credentials not in ("keyring", "env"):
        raise UserError("A team server's token is kept in the keyring (default) or read from $STUDIO_BACKEND_TOKEN "
                        "at run time (--credentials env).", 2)
    if a.bucket or a.endpoint or a.access_key or a.webhook:
        raise UserError("--backend takes no --bucket, --endpoint, --access-key or --webhook: the team server holds "
                        "the bucket and sends the completion webhook itself.", 2)
    token = sys.stdin.readline().strip() if a.secret_stdin else os.environ.get(ENV_TOKEN, "").strip()
    if not token and not a.replace:
        raise UserError(f"Give the device token (from `studio backend add-device`) in ${ENV_TOKEN} or on stdin "
                        "(--secret-stdin).", 2)
    target, me = ctx.studio.targets.add_backend(
        a.name, a.backend, token=token, credentials=credentials, replace_existing=a.replace,
        concurrency=a.concurrency, part_size=a.part_size, bandwidth_limit=a.bandwidth_limit,
        unmetered_only=a.unmetered_only, public_base_url=a.public_base_url or None)
    where = "kept in the keyring" if credentials == "keyring" else f"read from ${ENV_TOKEN} when uploads run"
    ctx.emit({"ok": True, "target": target.to_dict(), "device": me.get("device")},
             f"Added team server {target.name} ({target.backend_url}) as device {me['device']['name']}; its token "
             f"is {where}.")
    return 0


def _add(ctx: Context) -> int:
    from studio.uploader.targets import Target

    a = ctx.args
    if a.backend:
        return _add_backend(ctx)
    if not a.bucket:
        raise UserError("--bucket is required (or --backend URL for a team server).", 2)
    a.credentials = a.credentials or "aws"
    secret = None
    if a.credentials == "keyring":
        secret = os.environ.get("STUDIO_SECRET_ACCESS_KEY")
        if a.secret_stdin:
            secret = sys.stdin.readline().strip()
        if not a.access_key or not secret:
            raise UserError("--credentials keyring needs --access-key and the secret key in "
                            "$STUDIO_SECRET_ACCESS_KEY or on stdin (--secret-stdin).", 2)
    target = Target(name=a.name, bucket=a.bucket, endpoint_url=a.endpoint, region=a.region,
                    key_template=a.key_template, addressing_style=a.addressing_style, part_size=a.part_size,
                    concurrency=a.concurrency, checksum_algorithm=a.checksum,
                    checksum_when_required=a.checksums_when_required, bandwidth_limit=a.bandwidth_limit,
                    credential_source=a.credentials, aws_profile=a.profile, webhook_url=a.webhook,
                    unmetered_only=a.unmetered_only, webhook_unsigned=bool(a.webhook and a.webhook_unsigned),
                    public_base_url=a.public_base_url or None)
    if a.webhook_unsigned and not a.webhook:
        raise UserError("--webhook-unsigned needs --webhook URL.", 2)
    hook_secret = None if a.webhook_unsigned else os.environ.get("STUDIO_WEBHOOK_SECRET") or None
    ctx.studio.targets.add(target, access_key=a.access_key, secret_key=secret, webhook_secret=hook_secret,
                           replace_existing=a.replace)
    text = f"Added target {target.name}."
    if target.webhook_url:
        from studio.uploader.credentials import keyring_available

        text += (" Its webhook is unsigned." if target.webhook_unsigned else
                 " Its webhook is signed with the secret kept in the keyring." if keyring_available() else
                 " Its webhook is signed with $STUDIO_WEBHOOK_SECRET, read when uploads run (no keyring here).")
    ctx.emit({"ok": True, "target": target.to_dict()}, text)
    return 0


def _list(ctx: Context) -> int:
    targets = ctx.studio.targets.list()
    lines = [f"{t.name:<16} {t.backend_url or t.endpoint_url or ('this computer' if t.is_local else 'AWS S3')}  "
             f"bucket={t.bucket}  credentials={t.credential_source}"
             + (f"  webhook={t.webhook_url}{' (unsigned)' if t.webhook_unsigned else ' (signed)'}" if t.webhook_url
                else "")
             + (f"  links={t.public_base_url}" if t.public_base_url else "") for t in targets]
    ctx.emit([t.to_dict() for t in targets], "\n".join(lines))
    return 0


def _remove(ctx: Context) -> int:
    ctx.studio.targets.remove(ctx.args.name)
    ctx.emit({"ok": True}, f"Removed target {ctx.args.name}.")
    return 0


def _test(ctx: Context) -> int:
    result = ctx.studio.targets.test(ctx.args.name)
    ctx.emit(result, ("ok: " if result["ok"] else "FAILED: ") + result["verdict"])
    return 0 if result["ok"] else 1
