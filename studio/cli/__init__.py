"""The `studio` command: the GUI by default, sub-commands for everything headless.

Each sub-command lives in its own module under studio/cli/ with a ``register(subparsers)`` that
adds its parser and sets ``handler(ctx) -> int``. Registration imports nothing heavy, so
`studio --version` and the GUI start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import math
import os
import pkgutil
import sys
from typing import Any

from studio import APP_NAME, __version__
from studio.errors import BadInput, StudioError
from studio.lastrun import end_process

log = logging.getLogger(__name__)


def command_modules() -> list[str]:
    """Every module in this package is a sub-command (packaging lists them as hidden imports)."""
    return [f"{__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)]


class UserError(BadInput):
    """An error with a message for the user; the CLI prints it and exits with ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def number_of(unit: str, maximum: float, example: str):  # noqa: ANN201 - an argparse type function
    """argparse ``type=`` for a count of ``unit``: finite, 0 or more, at most ``maximum``
    (``nan``, ``inf``, ``-1`` refused with a sentence naming the unit)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}” is not a number of {unit}") from None
        if not math.isfinite(value) or value < 0 or value > maximum:
            raise argparse.ArgumentTypeError(f"“{text}” is not a number of {unit} (give 0 or more, e.g. {example})")
        return value

    parse.__name__ = unit   # argparse names the type in its own messages
    return parse


days = number_of("days", 100_000, "30")


class Context:
    """What a sub-command handler gets: parsed args, the services (built on first use), output helpers."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self._studio = None

    @property
    def studio(self):
        if self._studio is None:
            from studio.app import build

            self._studio = build(self.args.data_dir, reset_database=self.args.reset_database)
        return self._studio

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print ``data`` as JSON with --json, else the human text (or a readable dump)."""
        if self.json:
            print(json.dumps(data, indent=2, default=str, ensure_ascii=False))
        else:
            print(human if human is not None else json.dumps(data, indent=2, default=str, ensure_ascii=False))

    def close(self) -> None:
        if self._studio is not None:
            self._studio.close()


last_command: str | None = None   # the sub-command main() ran (None: the GUI, or none parsed)


def exit_process(code: int) -> None:
    """End a `python -m studio COMMAND` process once main() returned: logs and streams flushed, the
    services already closed by main(); the interpreter's own clean-up (collecting every module's
    objects) is skipped, since it costs seconds on a busy machine and leaves nothing behind. The GUI
    (no sub-command) exits normally: its atexit hooks stop Qt threads."""
    if last_command is None:
        sys.exit(code)
    end_process(code)


def exit_now(ctx: Context, code: int) -> None:
    """Leave at once after a stop signal: close the services and the logs, flush, then skip the
    interpreter's own clean-up (collecting every module's objects takes seconds on a busy machine,
    and Ctrl+C or SIGTERM must end the command within two)."""
    try:
        ctx.close()
    finally:
        end_process(code)


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")


_VALUE_OPTIONS = ("--data-dir", "--quit-after", "--page", "--open")


def names_a_command(argv: list[str]) -> bool:
    """Whether ``argv`` may name a sub-command (or asks for help): anything but the GUI's own options.
    In doubt (an abbreviated option, say) the answer is yes: the full parser then decides."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help") or not word.startswith("-") or word == "-":
            return True
        if word in _VALUE_OPTIONS:
            next(words, None)
    return False


def given_files(argv: list[str]) -> tuple[list[str], list[str]]:
    """(options, files): ``studio [OPTIONS] FILE…`` opens the app and imports each file as a draft
    (what a file manager's "Open with" runs). Only when every word that is not an option is an
    existing file and the first is no command's name; otherwise ``([], argv)`` is not split."""
    options, files = [], []
    words = iter(argv)
    for word in words:
        if word.startswith("-"):
            options.append(word)
            if word in _VALUE_OPTIONS:
                options.append(next(words, ""))
        else:
            files.append(word)
    commands = {name.rsplit(".", 1)[-1].replace("_", "-") for name in command_modules()}
    if not files or files[0] in commands or not all(os.path.isfile(f) for f in files):
        return argv, []
    return options, files


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The whole parser; ``commands=False`` leaves the sub-commands out (the GUI's start: registering
    them all costs a tenth of a second before the window can show)."""
    p = argparse.ArgumentParser(
        prog="studio", description=f"{APP_NAME}: record, edit and upload short vertical videos. "
                                   "With no command, opens the app; `studio FILE…` opens it and "
                                   "imports each video file as a draft.")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="keep all data, cache and settings under DIR (also $STUDIO_DATA_DIR)")
    p.add_argument("--verbose", "-v", action="store_true", help="log debug messages to stderr")
    p.add_argument("--reset-database", action="store_true",
                   help="if the database file is damaged, move it aside and start a fresh one")
    p.add_argument("--quit-after", type=float, metavar="SECONDS", default=None,
                   help="GUI: close the window and exit 0 after SECONDS (smoke tests)")
    p.add_argument("--page", choices=["record", "drafts", "editor", "uploads"], default=None,
                   help="GUI: the page to open first")
    p.add_argument("--open", metavar="DRAFT_ID", default=None, help="GUI: open this draft in the editor")
    if not commands:
        p.set_defaults(command=None)
        return p
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(name).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status and never lets a traceback reach the user:
    0 done, 1 it could not be done (the sentence says why), 2 bad input (an argument or a file),
    130 interrupted."""
    # Qt Multimedia says at start which optional libraries it could not load (PipeWire, VA-API) and that
    # it has no media backend (the bundle ships none: packaging/slim.py); none of it concerns a user.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    words, files = given_files(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser(commands=names_a_command(words))
    try:
        args = parser.parse_args(words)
        args.open_files = files   # not `files`: `drafts import` has an argument of that name
    except SystemExit as e:  # argparse printed the usage and the sentence (or --help/--version)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    global last_command
    last_command = args.command
    if args.command is None:
        # The start allocates much and frees little (modules, Qt types): no collection runs until the
        # window has painted (studio.ui.launch turns the collector back on then).
        gc.disable()
        from studio.ui.launch import run_gui

        return run_gui(args)
    from studio import logs

    ctx = Context(args)
    try:
        if getattr(args, "standalone", False):   # e.g. `studio backend`: a server, not a desktop profile
            logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        else:
            logs.setup_logging(ctx.studio.layout.logs, verbose=args.verbose)
        logs.install_excepthooks()
        return int(args.handler(ctx) or 0)
    except UserError as e:
        _fail(ctx, str(e))
        return e.code
    except BadInput as e:
        _fail(ctx, e.user_message)
        return 2
    except StudioError as e:
        _fail(ctx, e.user_message)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except RecursionError:
        # json and our readers recurse per nesting level: only a hostile or damaged file gets here
        log.info("input nested too deeply", exc_info=True)  # the log file only: the terminal gets the sentence
        _fail(ctx, "The input is nested too deeply to be read (a damaged or hostile file?). Nothing was changed.")
        return 2
    except OSError as e:
        _fail(ctx, _os_sentence(e))
        return 1
    except Exception as e:  # noqa: BLE001 - a bug: the log gets the traceback, the user a sentence
        # INFO keeps the traceback in the log file and off the terminal (its handler shows WARNING and up)
        log.info("studio %s failed with an unexpected error", args.command, exc_info=True)
        _fail(ctx, f"Something went wrong ({e.__class__.__name__}: {str(e)[:200]}). "
                   f"The details are in the log{_log_hint(ctx)}.")
        return 1
    finally:
        try:
            ctx.close()
        except Exception:  # noqa: BLE001 - closing must not turn a result into a traceback
            log.exception("closing the services failed")


def _os_sentence(e: OSError) -> str:
    where = f" ({e.filename})" if getattr(e, "filename", None) else ""
    return f"{e.strerror or e}{where}."


def _log_hint(ctx: Context) -> str:
    studio = ctx._studio
    return f" in {studio.layout.logs}" if studio is not None else ""


def _fail(ctx: Context, message: str) -> None:
    if ctx.json:
        print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    print(f"studio: {message}", file=sys.stderr)
