"""`studio publish DRAFT_ID --target NAME`: build the post (HLS ladder, poster, page) and queue its files."""

from __future__ import annotations

import sys

from studio.cli import Context, UserError, add_json_flag
from studio.errors import user_message


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("publish", help="build a draft's post (adaptive HLS, poster, share page) and queue it; "
                                       "prints the post id (`studio uploads run` carries it to LIVE)")
    p.add_argument("draft_id", metavar="DRAFT_ID", help="the draft (6+ characters of its id are enough)")
    p.add_argument("--target", default="local", help="target name (default: local, this computer)")
    add_json_flag(p)
    p.set_defaults(handler=run)


STAGES = {"exporting": "exporting", "building": "building qualities", "queued": "queued"}


def run(ctx: Context) -> int:
    import signal
    import threading

    from studio.publish.posts import PostError, PublishCancelled
    from studio.uploader.errors import UploadError

    from studio.drafts import DraftError, DraftNotFound

    try:
        draft_id = ctx.studio.drafts.resolve_id(ctx.args.draft_id)
    except (DraftNotFound, DraftError) as e:
        raise UserError(str(e), 2) from None
    cancel = threading.Event()

    def on_signal(_signum, _frame) -> None:  # noqa: ANN001
        cancel.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    last = {"line": ""}

    def on_stage(stage: str, fraction: float) -> None:
        line = f"\r{STAGES.get(stage, stage)} {fraction * 100:5.1f}%"
        if line != last["line"]:
            last["line"] = line
            print(line, end="", file=sys.stderr, flush=True)

    def end_line() -> None:
        if last["line"]:
            print(file=sys.stderr, flush=True)

    try:
        post = ctx.studio.posts.publish(draft_id, ctx.args.target, on_stage=on_stage, cancel=cancel)
    except PublishCancelled as e:
        end_line()
        print(f"studio: {e.user_message}", file=sys.stderr)
        return 130
    except (PostError, UploadError, DraftError, KeyError) as e:
        end_line()
        raise UserError(user_message(e), 1) from None
    end_line()
    ctx.emit({"ok": True, "post_id": post.id, "state": post.state, "files": post.files_total,
              "target": post.target_name}, post.id)
    print(f"{post.files_total} files queued; `studio uploads run --until-idle` uploads them "
          f"(the app does too), `studio posts show {post.id[:8]}` tells when it is live.", file=sys.stderr)
    return 0
