"""A real PulseAudio server for tests: one null sink (speakers) and one null source (a microphone),
on a private socket in the test's folder. Point a process at it with ``PULSE_SERVER``.

Debian's ``pulseaudio`` (``make system-deps`` installs it). The server is ours alone: no
autospawn, no D-Bus, no user configuration; it stops when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SINK, SOURCE = "studio_test_speakers", "studio_test_microphone"
START_TIMEOUT_S = 20


@contextlib.contextmanager
def pulse_server(folder: Path):
    """Yields the ``PULSE_SERVER`` value (``unix:<socket>``) of a server with SINK and SOURCE."""
    exe = shutil.which("pulseaudio")
    if exe is None:
        pytest.fail("Debian's pulseaudio is needed for the sound tests: `make system-deps` installs it")
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "native"
    env = {**os.environ, "HOME": str(folder), "PULSE_RUNTIME_PATH": str(folder / "runtime"),
           "PULSE_STATE_PATH": str(folder / "state"), "XDG_CONFIG_HOME": str(folder / "config")}
    env.pop("PULSE_SERVER", None)
    argv = [exe, "--daemonize=no", "-n", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
            "--log-target=stderr", "--log-level=error",
            f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
            f"--load=module-null-sink sink_name={SINK} sink_properties=device.description={SINK}",
            f"--load=module-null-source source_name={SOURCE} description={SOURCE}"]
    log = (folder / "pulseaudio.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not socket.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pulseaudio did not start: {(folder / 'pulseaudio.log').read_text(errors='replace')}")
            time.sleep(0.05)
        yield f"unix:{socket}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
