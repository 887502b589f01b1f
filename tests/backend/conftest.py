"""Backend fixtures: a real SeaweedFS, real `studio backend serve` processes (uvicorn) on 127.0.0.1,
device tokens, a webhook receiver, and an independent S3 client as the witness."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
UPLOADER_TESTS = ROOT / "tests" / "uploader"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(UPLOADER_TESTS))   # studio_test_keyring, uploader_helpers

from backend_helpers import BackendProcess, WebhookReceiver, s3_client  # noqa: E402


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One SeaweedFS (the app's own launcher) for this folder's tests; no keyring: its creds in a 0600 file."""
    import keyring
    from keyring.backends import fail

    from studio.uploader.local_s3 import LocalS3

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    server = LocalS3(tmp_path_factory.mktemp("seaweed"))
    try:
        config = server.client_config()
    finally:
        keyring.set_keyring(previous)
    yield config
    server.stop()


@pytest.fixture
def raw_s3(s3_server):
    return s3_client(s3_server)


@pytest.fixture
def start_backend(s3_server, tmp_path):
    """Factory: start_backend(db=None, **options) -> BackendProcess; all stopped after the test."""
    started: list[BackendProcess] = []

    def start(db: str | None = None, **kw) -> BackendProcess:
        b = BackendProcess(kw.pop("s3", s3_server), db or str(tmp_path / "backend.db"), tmp_path, **kw)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


@pytest.fixture
def webhook_receiver():
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def test_keyring(tmp_path, monkeypatch):
    """A file keyring in the test's folder, for this process and every CLI it runs."""
    import keyring

    from studio_test_keyring import FileKeyring

    # Before the environment names the test backend: keyring's first get_keyring() builds its default
    # from $PYTHON_KEYRING_BACKEND, and "previous" must be the session's real one, not ours.
    previous = keyring.get_keyring()
    monkeypatch.setenv("STUDIO_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "studio_test_keyring.FileKeyring")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(UPLOADER_TESTS)]))
    keyring.set_keyring(FileKeyring())
    yield
    keyring.set_keyring(previous)
