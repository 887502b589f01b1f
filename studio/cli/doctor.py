"""`studio doctor [--json]`."""

from __future__ import annotations

from studio.cli import Context, add_json_flag


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("doctor", help="check this installation (ffmpeg, data folder, database, local S3...)")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from studio.doctor import format_report, run_checks

    report = run_checks(ctx.studio.layout)
    ctx.emit(report, format_report(report))
    return 0 if report["ok"] else 1
