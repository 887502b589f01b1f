"""The one place that finds and runs the ffmpeg binary.

The binary is the one shipped in the ``imageio-ffmpeg`` wheel (the packaged app bundles that
package with its binary), overridable with ``STUDIO_FFMPEG``. Every other module asks here instead of building its own
command line to locate or run ffmpeg: ``run`` for a command that finishes, ``spawn`` for one that
streams (frames or sound on stdout, an export with progress) and can be cancelled.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Union

from studio.errors import StudioError

ENV_FFMPEG = "STUDIO_FFMPEG"
REQUIRED_ENCODERS = ("libx264", "aac")


class FFmpegNotFound(StudioError, RuntimeError):
    """ffmpeg could not be located; the message says how to fix it."""


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary. Raises FFmpegNotFound with what to do."""
    override = os.environ.get(ENV_FFMPEG)
    if override:
        if Path(override).is_file():
            return override
        raise FFmpegNotFound(f"{ENV_FFMPEG} points at {override!r}, which does not exist.")
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "not found"; fall back to PATH
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise FFmpegNotFound(
        "ffmpeg was not found. Reinstall with `make setup` (it installs imageio-ffmpeg), "
        f"or set {ENV_FFMPEG} to an ffmpeg binary."
    )


def run(args: list[str], *, timeout: float | None = None, check: bool = True,
        capture: bool = True) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (no binary name), quiet banner, no stdin."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=capture, timeout=timeout,
                          check=check, text=False)


CancelCheck = Union[threading.Event, Callable[[], bool]]
ProgressFn = Callable[[int], None]      # out_time_us of ffmpeg's -progress stream
STDERR_LINES = 50


class FFmpegProcess:
    """A running ffmpeg started by ``spawn``. Read ``stdout`` (when asked for), then ``wait()``;
    ``close()`` (or the ``with`` block) kills it if still running and releases its pipes.

    ``cancelled`` is True once ``cancel`` fired and the process was killed; ``error_text`` holds
    the last lines ffmpeg wrote to stderr (drained on a thread, so ffmpeg never blocks on it)."""

    def __init__(self, cmd: list[str], *, stdout: bool, stdin: bool, progress: ProgressFn | None,
                 cancel: CancelCheck | None, new_session: bool, bufsize: int):
        self.cancelled = False
        self._stderr: deque[bytes] = deque(maxlen=STDERR_LINES)
        self._done = threading.Event()
        # Own session (export): a terminal's Ctrl+C reaches only us, and we cancel — kill and clean
        # up — ourselves; ffmpeg would otherwise finish the file gracefully and exit as if it succeeded.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if (stdout or progress) else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, bufsize=bufsize,
                                     start_new_session=new_session and os.name == "posix")
        self.stdin = self.proc.stdin
        self.stdout = self.proc.stdout if stdout else None
        self._threads = [threading.Thread(target=self._drain, daemon=True)]
        if cancel is not None:
            self._threads.append(threading.Thread(target=self._watch, args=(cancel,), daemon=True))
        for t in self._threads:
            t.start()
        self._progress = progress

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _watch(self, cancel: CancelCheck) -> None:
        # Checked before the first wait: a cancel already set when ffmpeg starts kills it before it can
        # write anything (a short job, one preview frame, may finish within a single poll interval).
        is_set = cancel.is_set if isinstance(cancel, threading.Event) else cancel
        while True:
            if self.proc.poll() is not None:
                return
            if is_set():
                self.cancelled = True
                self.proc.kill()
                return
            if self._done.wait(0.02):
                return

    def follow_progress(self) -> None:
        """Read ffmpeg's ``-progress`` stream to its end, calling ``progress(out_time_us)`` per update."""
        for raw in self.proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                self._progress(int(value))

    def wait(self, timeout: float | None = None) -> int:
        if self._progress is not None:
            self.follow_progress()
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self._finish()

    def _finish(self) -> None:
        self._done.set()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def error_lines(self) -> list[str]:
        return [ln.decode("utf-8", "replace").rstrip() for ln in list(self._stderr)]

    @property
    def error_text(self) -> str:
        return "\n".join(self.error_lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def close(self) -> None:
        self.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._finish()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass

    def __enter__(self) -> "FFmpegProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def spawn(args: list[str], *, progress: ProgressFn | None = None, cancel: CancelCheck | None = None,
          stdout: bool = False, stdin: bool = False, new_session: bool = False,
          bufsize: int = -1) -> FFmpegProcess:
    """Start ffmpeg with ``args`` (no binary name, banner hidden) and return at once.

    ``stdout=True``: read its output from ``.stdout`` (raw frames, PCM). ``progress(out_time_us)``:
    ffmpeg reports on stdout (``-progress pipe:1``) and ``wait()`` relays it, so it cannot be
    combined with ``stdout``. ``cancel`` (an Event or a callable returning True) kills it from a
    watcher thread. Raises FFmpegNotFound, or OSError when the binary cannot be started."""
    if progress is not None and stdout:
        raise ValueError("ffmpeg's progress stream and its output cannot share stdout")
    cmd = [ffmpeg_exe(), "-hide_banner"]
    if not stdin:
        cmd.append("-nostdin")
    if progress is not None:
        cmd += ["-progress", "pipe:1", "-nostats"]
    return FFmpegProcess([*cmd, *args], stdout=stdout, stdin=stdin, progress=progress, cancel=cancel,
                         new_session=new_session, bufsize=bufsize)


@functools.cache
def version() -> str:
    out = run(["-version"], timeout=20).stdout.decode(errors="replace")
    m = re.search(r"ffmpeg version (\S+)", out)
    return m.group(1) if m else out.splitlines()[0] if out else "unknown"


@functools.cache
def encoders() -> dict[str, bool]:
    """Which of the encoders we need this ffmpeg has."""
    out = run(["-encoders"], timeout=20).stdout.decode(errors="replace")
    names = set(re.findall(r"^\s*[VAS][\w.]{5}\s+(\S+)", out, re.MULTILINE))
    return {name: name in names for name in REQUIRED_ENCODERS}


@functools.cache
def filters() -> frozenset[str]:
    out = run(["-filters"], timeout=20).stdout.decode(errors="replace")
    return frozenset(re.findall(r"^\s*[T.][S.]\s+(\S+)\s", out, re.MULTILINE))


def run_job(args: list[str], *, duration_s: float, on_fraction: Callable[[float], None] | None = None,
            cancel: threading.Event | None = None) -> FFmpegProcess:
    """Run a long ffmpeg job to its end in a session of its own (so a kill of the app's group spares
    nothing half-written), reporting the fraction of ``duration_s`` written so far (kept below 1:
    the caller says when it is done). Returns the finished process (``returncode``, ``error_lines``);
    raises OSError when ffmpeg cannot start. A set ``cancel`` stops it; the caller checks it after."""
    def progress(out_time_us: int) -> None:
        if on_fraction is not None and duration_s > 0:
            on_fraction(min(max(out_time_us / 1e6 / duration_s, 0.0), 0.999))

    proc = spawn(args, progress=progress, cancel=cancel, new_session=True)
    with proc:
        proc.wait()
    return proc

