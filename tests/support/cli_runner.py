"""The real `studio` command in a child process, like a user in a terminal.

It lives here, on the tests' pythonpath, rather than in a conftest: `from conftest import ...`
resolves to whichever conftest pytest imported first (tests/editor_ui has its own), so a
helper imported by name must live in a module with a unique name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, data_dir: Path | None = None, timeout: float = 120, env: dict | None = None,
            check: bool = False) -> subprocess.CompletedProcess:
    """Run `python -m studio ...`; ``data_dir`` becomes ``--data-dir``."""
    cmd = [sys.executable, "-m", "studio"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=check, stdin=subprocess.DEVNULL)
