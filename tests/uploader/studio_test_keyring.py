"""A keyring backend of the tests' own: a JSON file named by $STUDIO_TEST_KEYRING.

Child processes load it with PYTHON_KEYRING_BACKEND=studio_test_keyring.FileKeyring (this folder on
PYTHONPATH), so the CLI under test and the test itself see the same secrets, and the developer's
real keyring is never touched.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1

    @property
    def _path(self) -> Path:
        # A test that leaves this backend installed (keyring keeps one per process) must not break the
        # next test that finds it without its file: that one gets a file of this process's own.
        default = Path(tempfile.gettempdir()) / f"studio-test-keyring-{os.getpid()}.json"
        return Path(os.environ.get("STUDIO_TEST_KEYRING") or default)

    def _load(self) -> dict:
        try:
            return json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, data: dict) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self._path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)
