"""The real SeaweedFS fixtures shared by the uploader and publish tests: one server for the session
(started by the app's own launcher), a keyring of the tests' own, and an independent S3 client.
A conftest imports them (``from s3_fixtures import ...``) to use them in its folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = (Path(__file__).resolve().parent.parent / "uploader").resolve()   # studio_test_keyring lives there
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """SeaweedFS via studio.uploader.local_s3.LocalS3 on a temporary folder (no keyring: 0600 file)."""
    import keyring
    from keyring.backends import fail

    from studio.uploader.local_s3 import LocalS3

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    server = LocalS3(tmp_path_factory.mktemp("seaweed"))
    try:
        server.ensure_running()
        config = server.client_config()
    finally:
        keyring.set_keyring(previous)
    yield config
    server.stop()


@pytest.fixture(autouse=True)
def test_keyring(tmp_path, monkeypatch):
    """Every uploader test (and every CLI it runs) uses a file keyring in its tmp folder."""
    import keyring

    from studio_test_keyring import FileKeyring

    # Before the environment names the test backend: keyring's first get_keyring() builds its default
    # from $PYTHON_KEYRING_BACKEND, and "previous" must be the session's real one, not ours.
    previous = keyring.get_keyring()
    monkeypatch.setenv("STUDIO_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "studio_test_keyring.FileKeyring")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    keyring.set_keyring(FileKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def raw_s3(s3_server):
    """An S3 client that shares no code with the uploader: the independent witness."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=s3_server["endpoint"], aws_access_key_id=s3_server["access_key"],
                        aws_secret_access_key=s3_server["secret_key"], region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))
