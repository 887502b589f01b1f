"""The one place that finds and runs the ffmpeg binary.

The binary is the one shipped in the ``imageio-ffmpeg`` wheel (the packaged app bundles that
package with its binary), overridable with ``STUDIO_FFMPEG``. Every other module asks here instead of building its own
command line to locate or run ffmpeg.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

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
